"""Dates of birth as lists spell them ("12 Jan 1960", "circa 1958", "1955 to 1958", "12/01/1960")."""

from __future__ import annotations

import re
from datetime import date

from apps.watchlists.importers.entries import BirthDate

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        ),
        start=1,
    )
    for m in names.split()
}


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1850 <= year <= 2100:
        return False
    if month is None:
        return day is None
    try:
        date(year, month, day or 1)
    except ValueError:
        return False
    return True


def parse_date_of_birth(text: str) -> list[BirthDate]:
    """Parse the date-of-birth spellings lists use; return [] when nothing date-like is found.

    Handles ISO (``1960-01-12``, ``1960-01``, ``1960``), ``12 Jan 1960``, ``Jan 1960``,
    ``circa 1958``/``approximately``, ranges ``1955 to 1958``/``1955-1958``/``1955..1958`` and
    ``dd/mm/yyyy`` / ``dd.mm.yyyy``.
    """
    value = text.strip().casefold()
    approx = bool(re.search(r"\b(circa|ca\.|approx\w*|about)\b", value))
    value = re.sub(r"\b(circa|ca\.|approx\w*|about)\b", " ", value).strip(" .,;")
    m = re.fullmatch(r"(\d{4})\s*(?:to|-|\u2013|\.\.|and)\s*(\d{4})", value) or re.fullmatch(
        r"between\s+(\d{4})\s+and\s+(\d{4})", value
    )
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return [BirthDate(lo, year_to=hi, approximate=approx)] if _valid(lo, None, None) else []
    if " to " in value:  # "01 Jan 1953 to 31 Dec 1954": keep the covered years
        lo_text, _, hi_text = value.partition(" to ")
        first, last = parse_date_of_birth(lo_text), parse_date_of_birth(hi_text)
        if first and last:
            a, b = sorted((first[0].year, last[-1].year))
            return [BirthDate(a, year_to=b if b != a else None, approximate=approx)]
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:t.*)?", value)
    if m:
        y = int(m.group(1))
        mo = int(m.group(2)) if m.group(2) else None
        d = int(m.group(3)) if m.group(3) else None
        return [BirthDate(y, mo or None, d or None, approximate=approx)] if _valid(y, mo, d) else []
    m = re.fullmatch(r"(?:(\d{1,2})\s+)?([a-z]+)\.?,?\s+(\d{4})", value)
    if m and m.group(2) in _MONTHS:
        y, mo, d = int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)) if m.group(1) else None
        return [BirthDate(y, mo, d or None, approximate=approx)] if _valid(y, mo, d) else []
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", value)
    if m:
        y, mo, d = int(m.group(3)), int(m.group(2)), int(m.group(1))
        return [BirthDate(y, mo, d, approximate=approx)] if _valid(y, mo, d) else []
    return []
