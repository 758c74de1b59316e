"""Identifiers as keys: one normal form per kind, and the checks that refuse a value that cannot be one.

Screening and linking compare identifiers exactly, so each kind has one canonical spelling that intake
(subjects) and the watchlists (entries) both write: a container number in ISO 6346 form with its check
digit verified, a vessel's IMO number with its check digit, a phone number in E.164, an e-mail address
folded to lower case, a travel-document number as its letters and digits, a payment card as the SHA-256
of its number (the number itself is never kept), a trader's operator id (EORI style).

Each ``*_key`` function returns the normal form or raises :class:`BadKey` with a reason a person can act
on; the caller adds the file, line and field. Pure Python (``phonenumbers`` aside), no Django, so parsers
and importers use it too.
"""

from __future__ import annotations

import hashlib
import re

import phonenumbers

__all__ = [
    "KEY_KINDS",
    "BadKey",
    "card_key",
    "container_key",
    "document_key",
    "email_key",
    "imo_key",
    "normal_key",
    "operator_id",
    "phone_key",
]

#: Kinds of exact keys, as watchlist entries and subjects name them.
KEY_KINDS = ("container", "imo", "phone", "email", "document", "payment_card")


class BadKey(ValueError):
    """A value that is not a valid identifier of its kind; the message says why."""


# ISO 6346: letters count 10..38, skipping multiples of 11 (11, 22, 33).
_LETTER_VALUES: dict[str, int] = {}
_value = 10
for _letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _value % 11 == 0:
        _value += 1
    _LETTER_VALUES[_letter] = _value
    _value += 1
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZR]\d{7}$")


def _compact(value: str) -> str:
    return "".join(c for c in str(value or "").upper() if c.isalnum())


def container_key(value: str) -> str:
    """An ISO 6346 container number (owner code, category, serial, check digit), e.g. ``CSQU3054383``."""
    text = _compact(value)
    if not _CONTAINER.match(text):
        raise BadKey(
            f"{value!r} is not an ISO 6346 container number "
            "(3-letter owner code, U/J/Z/R, 6-digit serial, check digit)"
        )
    total = sum((_LETTER_VALUES[c] if c.isalpha() else int(c)) * (2**i) for i, c in enumerate(text[:10]))
    check = total % 11 % 10
    if check != int(text[10]):
        raise BadKey(f"container number {text} fails its check digit (expected {check})")
    return text


def imo_key(value: str) -> str:
    """A vessel's IMO number: seven digits whose last is the check digit (``IMO 9321483`` → ``9321483``)."""
    text = _compact(value)
    text = text.removeprefix("IMO")
    if not re.fullmatch(r"\d{7}", text):
        raise BadKey(f"{value!r} is not an IMO number (seven digits)")
    check = sum(int(d) * w for d, w in zip(text[:6], range(7, 1, -1), strict=True)) % 10
    if check != int(text[6]):
        raise BadKey(f"IMO number {text} fails its check digit (expected {check})")
    return text


def phone_key(value: str, region: str | None = None, *, strict: bool = True) -> str:
    """A phone number in E.164 (``+442079460958``). Without a leading ``+`` or ``00`` the number is read
    as a national number of ``region`` (ISO alpha-2); with no region it cannot be placed and is refused.

    ``strict`` asks for a number valid in its country's numbering plan (watchlist entries, registers);
    numbers sent by carriers are kept when merely possible (their test and placeholder numbers still link
    the bookings that share them).
    """
    text = str(value or "").strip()
    if not text:
        raise BadKey("empty phone number")
    digits = re.sub(r"[^\d+]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    region = (region or "").upper() if region and len(region) == 2 and region.isalpha() else None
    if not digits.startswith("+") and region is None:
        raise BadKey(f"phone number {value!r} has no country code (write it as +<country code> ...)")
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise BadKey(f"{value!r} is not a phone number: {exc}") from None
    ok = phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)
    if not ok:
        raise BadKey(f"{value!r} is not a {'valid' if strict else 'possible'} phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def email_key(value: str) -> str:
    """An e-mail address, folded: addresses are compared without regard to case (``Ana@X.org`` = ``ana@x.org``).

    PNR contact remarks write ``@`` as ``//``; both are read.
    """
    text = str(value or "").strip().replace("//", "@").casefold()
    text = text.removeprefix("mailto:")
    if not _EMAIL.match(text):
        raise BadKey(f"{value!r} is not an e-mail address")
    return text


def document_key(value: str) -> str:
    """A travel or identity document number: its letters and digits, upper case (``p-123 456`` → ``P123456``).

    Fewer than five characters would match far too many strangers' documents, so they are refused.
    """
    text = _compact(value)
    if len(text) < 5:
        raise BadKey(f"document number {value!r} is too short to be a key (at least 5 letters or digits)")
    return text


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def card_key(value: str) -> str:
    """A payment card as the SHA-256 (hex) of its number: partners share the hash, never the number.

    Accepts the hash itself (64 hex digits) or a full card number (12-19 digits passing the Luhn check),
    which is hashed at once. A masked number (``XXXXXXXX1186``) identifies no card and is refused.
    """
    text = str(value or "").strip()
    if _SHA256.match(text.casefold()):
        return text.casefold()
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{12,19}", digits):
        raise BadKey("a payment card is its full number (12-19 digits) or the SHA-256 hex of it")
    if not _luhn(digits):
        raise BadKey("card number fails its Luhn check digit")
    return hashlib.sha256(digits.encode()).hexdigest()


_EORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,15}$")


def operator_id(value: str) -> str:
    """A trader's operator id, EORI style: two-letter country code and up to 15 letters or digits."""
    text = "".join(str(value or "").split()).upper()
    if not _EORI.match(text):
        raise BadKey(
            f"{value!r} is not an operator id (two-letter country code, then 1-15 letters or digits)"
        )
    return text


def normal_key(kind: str, value: str, *, region: str | None = None, strict: bool = True) -> str:
    """The normal form of ``value`` as a key of ``kind`` (one of :data:`KEY_KINDS`); :class:`BadKey` if not."""
    if kind == "container":
        return container_key(value)
    if kind == "imo":
        return imo_key(value)
    if kind == "phone":
        return phone_key(value, region, strict=strict)
    if kind == "email":
        return email_key(value)
    if kind == "document":
        return document_key(value)
    if kind == "payment_card":
        return card_key(value)
    raise ValueError(f"unknown key kind {kind!r}")
