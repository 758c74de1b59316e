"""A centre set up from one configuration file (``manage.py setup_centre centre.yaml``).

The file says what the installation is: its agencies and partner administrations, its ports with their
capacity per shift and method, its data sources with their legal basis, retention, masking and sharing,
the operating model, the role profiles people are given, and the local accounts. Applying it creates what
is missing and brings what exists in line; applying it twice changes nothing the second time.

Two layers check a file before anything is written, so a mistake is named with its line:

* the shape (unknown keys, missing keys, wrong types, values outside a choice) by pydantic models, whose
  error locations are mapped back to the YAML line they came from;
* the meaning (a port's UN/LOCODE, an owner agency that is neither in the file nor in the database, a
  user whose role profile does not exist) by Django's own model validation and look-ups.

A dry run applies the file inside a transaction and rolls it back, so what it lists is exactly what a real
run would do, not a second implementation of it.
"""

from apps.agencies.centre.applying import INSTALLATION, SHARE_PERMISSION, Change, Outcome, setup_centre
from apps.agencies.centre.file import CentreFile, CentreFileError, read_centre_file

__all__ = [
    "INSTALLATION",
    "SHARE_PERMISSION",
    "CentreFile",
    "CentreFileError",
    "Change",
    "Outcome",
    "read_centre_file",
    "setup_centre",
]
