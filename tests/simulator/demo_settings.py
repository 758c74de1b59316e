"""Settings for running the demo with the simulator app before the lead adds it to INSTALLED_APPS.

Used by the browser test's Daphne subprocess (and ``makemigrations simulator``); once ``apps.simulator``
is in ``ratc_ops.settings.INSTALLED_APPS`` this module changes nothing.
"""

from ratc_ops.settings import *  # noqa: F403

if "apps.simulator" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "apps.simulator"]  # noqa: F405
