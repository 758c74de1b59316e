"""How long ago, or how soon, in words: Django's ``timesince`` and ``timeuntil``, except that less than a
minute reads "under a minute" rather than "0 minutes".

"Arrives in 0 minutes" on an officer's card, or "0 minutes ago" in a queue, reads as a count that is
wrong; Django counts whole minutes and has no word below one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

__all__ = ["lasting", "since", "until"]

#: Any fixed instant: ``lasting`` counts a length of time from it. Below four weeks the words do not
#: depend on which (no month or year is counted); above, months and years are the calendar's from here.
EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


def _under_a_minute() -> str:
    """The words for less than a minute, in the active language (looked up when used, not at import)."""
    return gettext("under a minute")


def since(earlier: datetime, later: datetime | None = None, *, depth: int = 2) -> str:
    """``timesince(earlier, later)``, or "under a minute" when ``later`` is less than a minute after."""
    later = later if later is not None else timezone.now()
    if 0 <= (later - earlier).total_seconds() < 60:
        return _under_a_minute()
    return timesince(earlier, later, depth=depth)


def until(later: datetime, earlier: datetime | None = None, *, depth: int = 2) -> str:
    """``timeuntil(later, earlier)``, or "under a minute" when ``later`` is less than a minute away."""
    return since(earlier if earlier is not None else timezone.now(), later, depth=depth)


def lasting(length: timedelta, *, depth: int = 2) -> str:
    """A length of time in words ("6 years, 10 months", "3 hours, 30 minutes", "under a minute"), for
    figures such as an average lateness that an hour count would make hard to read ("60453.1 h")."""
    return since(EPOCH, EPOCH + max(length, timedelta(0)), depth=depth)
