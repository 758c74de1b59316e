"""The home page's handover panel (``apps.core.home`` lists it for the roles that hand over)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from apps.agencies.operations import can

__all__ = ["panel"]

ROWS = 5


def panel(user: Any, now: dt.datetime) -> Any:
    """Handovers that wait: those awaiting acknowledgement first (drawn as alerts), then drafts."""
    if not can(user, "handover.view"):
        return None
    from apps.core.home import Panel, Row
    from apps.handover.models import Handover
    from apps.handover.services import awaiting

    waiting = sorted(awaiting(user), key=lambda h: (h.state != Handover.State.SUBMITTED, h.shift_date, h.pk))
    rows = []
    for h in waiting[:ROWS]:
        if h.state == Handover.State.SUBMITTED:
            who = h.submitted_by.get_full_name() or h.submitted_by.username
            detail = f"Awaiting acknowledgement · handed over by {who} at {date_format(timezone.localtime(h.submitted_at), 'j M H:i')}"
        else:
            detail = "Draft · not yet handed over"
        rows.append(
            Row(
                label=f"{h.desk_label} · {h.shift_date:%d %b} {h.get_shift_display().split(' ')[0]}",
                url=reverse("handover:detail", args=[h.pk]),
                detail=detail,
                alert=h.state == Handover.State.SUBMITTED,
            )
        )
    unacknowledged = sum(h.state == Handover.State.SUBMITTED for h in waiting)
    return Panel(
        "handover", "Shift handover: awaiting acknowledgement", reverse("handover:list"), unacknowledged, rows,
        empty="Every handover has been acknowledged.", urgent=True,
    )  # fmt: skip
