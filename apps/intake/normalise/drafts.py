"""What every normaliser shares: the subject draft, keyed hashes of identifiers, name folding, and
records as JSON values for ``details``."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from operator import attrgetter
from typing import Any, overload

from django.conf import settings
from django.utils import timezone

from apps.intake.bulk import jsonb_key


@dataclass(slots=True)
class SubjectDraft:
    """A subject about to be stored, with the subjects it links to (by their drafts)."""

    kind: str
    external_id: str
    title: str
    facts: dict[str, Any]
    details: dict[str, Any]
    arrival_at: datetime | None = None
    port_code: str = ""  # a UN/LOCODE or IATA code, resolved to a Port when stored
    keys: list[str] = field(default_factory=list)
    links: list[tuple[SubjectDraft, str, str]] = field(default_factory=list)  # (other, kind, reason)
    label: tuple[bool, int] | None = None  # (finding, severity) of imported history
    # ``facts`` and ``details`` already in COPY text (``apps.intake.bulk.json_copy_text``), made in the
    # parsing process (``apps.intake.parallel``); whoever changes either after that sets this to None.
    copy_json: tuple[str, str] | None = None
    # False when only ``copy_json`` holds the documents: ``facts`` then keeps only the facts storing reads
    # (``FACTS_READ_WHEN_STORED``) and ``details`` nothing (``leave_as_text``).
    whole: bool = True

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the constructor's arguments, its links as its state: a slotted class's default sets
        each slot by name in Python, and drafts cross from the parsing process by the thousand (a file of
        1,000 travellers: 4.4 ms pickling and 3.1 ms unpickling, about a third of that this way). The
        links go in the state, set once the draft exists, so that drafts linking to each other in a
        circle pickle as they did."""
        return (_rebuilt_draft, _PICKLED_FIELDS(self), self.links)

    def __setstate__(self, links: list[tuple[SubjectDraft, str, str]]) -> None:
        self.links = links

    def leave_as_text(self) -> None:
        """Keep the documents as their COPY text alone, and of ``facts`` only what storing reads.

        For a draft that crosses from the parsing process to the storing one: unpickling its two
        documents' objects took the storing process 20 µs a traveller (20 s of a million's intake on the
        storing chain), and pickling them 12 µs in the parsing process, where their text, a string, costs
        next to nothing either way. A draft whose facts storing changes (an importer's previous
        declarations) is kept whole.
        """
        if self.copy_json is None or not self.whole or not FACTS_CHANGED_WHEN_STORED.isdisjoint(self.facts):
            return
        self.facts = {name: self.facts[name] for name in FACTS_READ_WHEN_STORED if name in self.facts}
        self.details = {}
        self.whole = False


#: What storing reads of a draft's facts: its MRN (amendments, keys) and a register's trader id.
FACTS_READ_WHEN_STORED = ("mrn", "trader_id")
#: Facts whose draft storing changes (``services._count_previous_declarations`` counts an importer's
#: earlier declarations): such a draft crosses back whole, to be encoded again.
FACTS_CHANGED_WHEN_STORED = frozenset({"importer_id"})

_DRAFT_FIELDS = [f.name for f in dataclasses.fields(SubjectDraft)]
#: A draft's fields but its links, in the order ``_rebuilt_draft`` takes them (``SubjectDraft.__reduce__``).
_PICKLED_FIELDS = attrgetter(*(name for name in _DRAFT_FIELDS if name != "links"))
_LINKS_AT = _DRAFT_FIELDS.index("links")


def _rebuilt_draft(*values: Any) -> SubjectDraft:
    """A pickled draft made again from ``_PICKLED_FIELDS``, without its links (they come as its state)."""
    return SubjectDraft(*values[:_LINKS_AT], [], *values[_LINKS_AT:])  # type: ignore[call-arg]  # by position


#: The secret a parsing process was handed by the process it parses for (``use_key_secret``).
_GIVEN_SECRET: list[bytes] = []


@functools.cache
def _key_secret() -> bytes:
    if _GIVEN_SECRET:
        return _GIVEN_SECRET[0]
    return (getattr(settings, "RATC_KEY_SECRET", "") or settings.SECRET_KEY).encode()


def key_secret() -> bytes:
    """The secret keyed hashes are made with (for handing to a parsing process: ``use_key_secret``)."""
    return _key_secret()


def use_key_secret(secret: bytes) -> None:
    """Make keyed hashes with ``secret`` in this process: a parsing process normalises with its parent's
    secret, whatever its own settings would say, so that its keys are the ones the parent would make."""
    _GIVEN_SECRET[:] = [secret]
    _key_secret.cache_clear()


def key_hash(kind: str, value: str) -> str:
    """A keyed hash of an identifier: equal inputs link, and the stored value reveals nothing.

    Keyed BLAKE2b (a MAC by construction, one C call) rather than HMAC-SHA256: intake computes several
    per record, and this is several times cheaper for the same guarantee.
    """
    return _key_hash(_key_secret()[:64], kind, value)


@functools.lru_cache(maxsize=1 << 16)
def _key_hash(secret: bytes, kind: str, value: str) -> str:
    # Cached: a batch names the same traders, ports and carriers over and over (three traders a
    # declaration, a few thousand distinct in 50,000). The secret is part of the key, so a changed
    # secret never returns a hash made with the old one.
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), key=secret, digest_size=16).hexdigest()
    return f"{kind}:{digest}"


#: ASCII punctuation, control characters and spaces to a space (``fold``'s ASCII path).
_ASCII_NOT_ALNUM = {c: " " for c in range(128) if not chr(c).isalnum()}


def fold(text: str) -> str:
    """Upper case, accents removed, runs of space and punctuation folded: how names are compared."""
    if text and text.isascii():
        # Most names and document numbers: nothing to decompose, and often one plain word. The same
        # result as below, without a Python step per character (three calls a traveller).
        upper = text.upper()
        if upper.isalnum():
            return upper
        return " ".join(upper.translate(_ASCII_NOT_ALNUM).split())
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain.upper()).split())


#: Each type met → for a dataclass, its field names in the order ``jsonb`` keeps an object's keys and a
#: getter of their values in that order; for any other type, ``_NO_FIELDS``.
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]] | None]] = {}
_NO_FIELDS: tuple[tuple[str, ...], None] = ((), None)


def _fields_of(kind: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]] | None]:
    if not dataclasses.is_dataclass(kind) or kind is type:
        plan: tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]] | None] = _NO_FIELDS
    else:
        names = tuple(sorted((f.name for f in dataclasses.fields(kind)), key=jsonb_key))
        plan = (
            names,
            attrgetter(*names) if len(names) > 1 else lambda value: tuple(getattr(value, n) for n in names),
        )
    _FIELDS[kind] = plan
    return plan


def jsonable(value: Any) -> Any:
    """Dataclasses, dates and decimals as JSON values, for ``details``; empty values are left out.

    A dataclass's fields come out in the order ``jsonb`` keeps keys (``bulk.jsonb_key``), so that
    ``bulk.jsonb_ordered`` finds them in order and leaves them as they are. Written for speed: a
    traveller's details are thirty fields, mostly plain or empty, on every record of a bulk intake.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list:
        return [v if type(v) is str else jsonable(v) for v in value]
    if kind is datetime or kind is date:
        return value.isoformat()
    names, getter = _FIELDS.get(kind) or _fields_of(kind)
    if getter is not None:
        out = {}
        # Plain strings and numbers, most fields, are kept without a call: a declaration is some fifty
        # values, and this function was a fifth of the time of storing one.
        for name, item in zip(names, getter(value), strict=True):
            cls = type(item)
            if cls is str:
                if item:
                    out[name] = item
            elif cls is int or cls is float or cls is bool:
                out[name] = item
            elif item is None:
                continue
            elif cls is list:
                if item:
                    out[name] = [v if type(v) is str else jsonable(v) for v in item]
            elif item == "" or item == [] or item == {}:
                continue
            else:
                out[name] = jsonable(item)
        return out
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) is str else jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _num(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


@overload
def _aware(value: None) -> None: ...
@overload
def _aware(value: datetime | date) -> datetime: ...
@overload
def _aware(value: datetime | date | None) -> datetime | None: ...
def _aware(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(12, 0))
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None
