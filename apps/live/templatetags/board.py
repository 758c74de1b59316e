"""Board filters: ``{% load board %}``.

``countdown`` writes the time to an arrival as ``static/js/live.js`` rewrites it every second
("in 2 h 05 min", "in 4 min 09 s", "arrived 12 min 30 s ago"), so the first paint and the live text
agree, and a board of a hundred cards does not pay Django's ``timeuntil`` (translated, pluralised)
for a text the script replaces a second later.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


def countdown_text(arrival: datetime | None, now: datetime | None = None) -> str:
    if arrival is None:
        return ""
    seconds = (arrival - (now or timezone.now())).total_seconds()
    past, s = seconds < 0, int(abs(seconds))
    h, m, sec = s // 3600, (s % 3600) // 60, s % 60
    text = f"{h} h {m:02d} min" if h else f"{m} min {sec:02d} s" if m else f"{sec} s"
    return f"arrived {text} ago" if past else f"in {text}"


@register.filter
def countdown(arrival: datetime | None) -> str:
    return countdown_text(arrival)
