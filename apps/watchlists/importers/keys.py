"""An entry's exact keys: container, phone, e-mail, payment card and IMO numbers, checked and normalised.

A key matches exactly, not by name similarity, so it is checked on the way in (a bad check digit is
refused, not stored) and kept in the normal form :mod:`apps.intake.keys` gives the same key on a
declaration or a manifest.
"""

from __future__ import annotations

from apps.intake.keys import BadKey, normal_key
from apps.watchlists.importers.entries import WatchlistEntry

#: Entry kinds that are a key themselves: the entry's name is the container number, phone number...
KEY_ENTRY_KINDS = ("container", "phone", "email", "payment_card")
#: Keys any entry may carry besides its name (a person's phones, a vessel's IMO number...), as the
#: generic CSV's columns and the API's lists name them.
EXTRA_KEY_FIELDS = {"imo": "imo", "containers": "container", "phones": "phone", "emails": "email",
                    "payment_cards": "payment_card"}  # fmt: skip


class BadEntryKey(ValueError):
    """A key of an entry that is not valid for its kind; ``field`` names where it was given."""

    def __init__(self, field_name: str, problem: str) -> None:
        self.field_name = field_name
        self.problem = problem
        super().__init__(f"{field_name}: {problem}")


def apply_keys(
    entry: WatchlistEntry, extra: dict[str, list[str]], *, document_field: str = "documents"
) -> None:
    """Check and normalise an entry's exact keys in place, refusing a bad one (:class:`BadEntryKey`).

    A key entry (container, phone, e-mail, payment card) is stored under its normal form: its name
    becomes the E.164 number, the folded address, the checked container number; a card becomes the
    SHA-256 of its number, and the number is never kept (the name says only its last four digits).
    ``extra`` holds further keys by field (``phones``, ``containers``...); IMO documents are checked too.
    A phone number without a country code is read in the entry's first nationality.
    """
    region = next((n for n in entry.nationalities if n and len(n) == 2), None)

    def norm(kind: str, value: str, field_name: str) -> str:
        try:
            return normal_key(kind, value, region=region)
        except BadKey as exc:
            raise BadEntryKey(field_name, str(exc)) from None

    found: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        if value not in found.setdefault(kind, []):
            found[kind].append(value)

    if entry.kind in KEY_ENTRY_KINDS:
        value = norm(entry.kind, entry.name, "name")
        if entry.kind == "payment_card":
            digits = "".join(c for c in entry.name if c.isdigit())
            entry.name = (
                f"Payment card ending {digits[-4:]}" if len(digits) >= 12 else f"Payment card {value[:12]}…"
            )
        else:
            entry.name = value
        add(entry.kind, value)
    for field_name, values in extra.items():
        kind = EXTRA_KEY_FIELDS[field_name]
        for raw in values:
            add(kind, norm(kind, raw, field_name))
    for doc in entry.documents:
        if doc.doc_type.strip().upper().startswith("IMO"):
            add("imo", norm("imo", doc.number, document_field))
    entry.identifiers = found
