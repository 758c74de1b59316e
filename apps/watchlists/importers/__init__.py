"""Watchlist importers: turn published sanctions lists into plain, Django-free dataclasses.

Each importer yields :class:`WatchlistEntry` objects one by one, so a caller can stream a large
list into the database or into a :class:`~apps.watchlists.matching.ScreeningIndex` without holding
the raw file in memory. Supported formats:

* the UN Security Council consolidated list (XML, parsed with ``lxml.etree.iterparse``);
* the OFAC SDN list in its legacy CSV form (``sdn.csv``, ``alt.csv``, ``add.csv``, no header row,
  ``-0-`` as the null marker; dates of birth, passports and vessel identifiers live in free-text
  remarks);
* a generic CSV with a header row, for national lists and hand-kept lookouts (see
  :data:`GENERIC_COLUMNS`).

External ids are derived only from the list's own stable identifiers (UN ``DATAID``, OFAC
``ent_num``, the generic ``id`` column), so re-importing a list yields the same ids and a caller
can upsert. Bad input raises :class:`WatchlistImportError`, which names the file, the line or
element and the field; importers never crash with a bare ``KeyError`` or ``IndexError``.

One module per concern; this package is their face:

* :mod:`.entries`: the dataclasses an importer yields (:class:`WatchlistEntry` and its parts) and
  :class:`WatchlistImportError`;
* :mod:`.countries`: country names, demonyms and codes as lists write them, to ISO alpha-2;
* :mod:`.dates`: the date-of-birth spellings lists use;
* :mod:`.keys`: an entry's exact keys (containers, phones, e-mails, cards, IMO numbers);
* :mod:`.un`, :mod:`.ofac`, :mod:`.generic`: one reader per list format.
"""

from __future__ import annotations

from apps.watchlists.importers.countries import country_code
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import (
    KINDS,
    Address,
    Alias,
    AliasQuality,
    BirthDate,
    Document,
    EntryKind,
    WatchlistEntry,
    WatchlistImportError,
    load_all,
)
from apps.watchlists.importers.generic import GENERIC_COLUMNS, load_generic_csv
from apps.watchlists.importers.keys import EXTRA_KEY_FIELDS, KEY_ENTRY_KINDS, BadEntryKey, apply_keys
from apps.watchlists.importers.ofac import load_ofac_sdn
from apps.watchlists.importers.un import load_un_consolidated

__all__ = [
    "EXTRA_KEY_FIELDS",
    "GENERIC_COLUMNS",
    "KEY_ENTRY_KINDS",
    "KINDS",
    "Address",
    "Alias",
    "AliasQuality",
    "BadEntryKey",
    "BirthDate",
    "Document",
    "EntryKind",
    "WatchlistEntry",
    "WatchlistImportError",
    "apply_keys",
    "country_code",
    "load_all",
    "load_generic_csv",
    "load_ofac_sdn",
    "load_un_consolidated",
    "parse_date_of_birth",
]
