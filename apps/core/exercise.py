"""Made-up data never goes into a live centre's database: which installation this is, and the refusal.

The demo (``RATC_DEMO``) and a training floor (``RATC_TRAINING``) write invented arrivals, travellers and
truths; a live centre sets neither, and there every writer of made-up data is refused here, before it
touches anything. This lives in core because the live floor needs it without the floor simulator
(``apps.simulator`` is installed only for the demo, a training floor and the tests); the simulator's
guard (``apps.simulator.guard``) adds the second check, the database's own exercise mark.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

__all__ = ["LiveCentreRefused", "database_name", "installation_kind", "refuse_live_centre"]


class LiveCentreRefused(RuntimeError):
    """The database is (or may be) a live centre's: nothing made-up is written into it."""


def installation_kind() -> str:
    """``training``, ``demo`` or ``live``, as the installation's settings say."""
    if getattr(settings, "RATC_TRAINING", False):
        return "training"
    if getattr(settings, "RATC_DEMO", False):
        return "demo"
    return "live"


def database_name() -> str:
    """The default database's name (a SQLite file's name without its folder), for the messages."""
    name = connection.settings_dict.get("NAME") or ""
    return str(name).rsplit("/", 1)[-1]


def refuse_live_centre(*, what: str) -> str:
    """The installation's kind, ``training`` or ``demo``; raises :class:`LiveCentreRefused`, saying what
    to do, when ``what`` (e.g. "The floor simulator") would run on a live centre."""
    kind = installation_kind()
    if kind == "live":
        raise LiveCentreRefused(
            f"{what} refused to run: this installation is a live centre (neither RATC_TRAINING nor "
            f"RATC_DEMO is set), and its database {database_name()!r} holds real work. Made-up arrivals "
            "never go into a live database. Run a training floor on its own database instead: "
            "RATC_TRAINING=1 RATC_TRAINING_DATABASE_URL=<an empty database> (see docs/training.md)."
        )
    return kind
