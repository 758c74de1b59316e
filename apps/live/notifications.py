"""A person's notifications, read at the moment of asking from what that person may see.

Three kinds, each a query through the model's own scoping (``visible_to``), never stored as copies:

- ``instruction``: an examination instruction sent to one of the person's ports (port staff and
  frontline officers), in the last day;
- ``mention``: a comment that names the person (``@username``) on a target the person may see, in a
  comment the person may read, in the last week;
- ``correction``: a supervisor's correction of an examination result on a target the person nominated,
  works, or whose owner agency the person supervises (and the officer whose result was corrected).

A notification says what happened and where (a target's reference, risk area, port), never a
reason, a comment's words, an instruction's text or anything about the subject: those are read on the
page it links to, where disclosure applies. The socket (``ws/notifications/``) only says "look again".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.agencies.operations import can, membership_of
from apps.agencies.roles import Role
from apps.live.models import NotificationsRead
from apps.targeting.routing import port_ids_of

#: How far back each kind is looked for.
INSTRUCTIONS_SINCE = timedelta(hours=24)
OTHERS_SINCE = timedelta(days=7)
#: Items listed at most (newest first).
LIMIT = 20


@dataclass(frozen=True, slots=True)
class Notice:
    """One line of the list: ``key`` is stable (``instruction-12``), so the browser toasts a line once."""

    key: str
    kind: str
    at: datetime
    title: str
    text: str
    url: str
    unread: bool


def _name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else "Someone"


def _instructions(user: Any, membership: Any, since: datetime) -> list[tuple[str, datetime, str, str, str]]:
    from apps.targeting.models import Instruction

    ports = port_ids_of(membership)
    if not ports:
        return []
    rows = (
        Instruction.objects.visible_to(user)
        .filter(port_id__in=sorted(ports), dispatched_at__gte=since)
        .select_related("target", "port")
        .order_by("-dispatched_at", "-pk")[:LIMIT]
    )
    on_tablet = can(user, "exam.view")
    out = []
    for row in rows:
        target = row.target
        url = (
            reverse("frontline:instruction", args=[row.pk])
            if on_tablet
            else reverse("targeting:detail", args=[target.pk])
        )
        arrival = (
            f" · arrival {timezone.localtime(target.arrival_at):%H:%M}"
            if target.arrival_at is not None
            else ""
        )
        out.append(
            (
                f"instruction-{row.pk}",
                row.dispatched_at,
                f"New instruction {target.reference}",
                f"{target.get_risk_area_display()} · {row.get_method_display()} at {row.port.name}{arrival}",
                url,
            )
        )
    return out


def _mentions(user: Any, since: datetime) -> list[tuple[str, datetime, str, str, str]]:
    from apps.targeting.models import Comment

    rows = (
        Comment.objects.visible_to(user)
        .filter(mentions=user, created_at__gte=since)
        .exclude(author=user)
        .select_related("target", "author")
        .order_by("-created_at", "-pk")[:LIMIT]
    )
    return [
        (
            f"mention-{row.pk}",
            row.created_at,
            f"{_name(row.author)} mentioned you",
            f"On {row.target.reference} · {row.target.get_risk_area_display()}",
            reverse("targeting:detail", args=[row.target_id]),
        )
        for row in rows
    ]


def _corrections(user: Any, membership: Any, since: datetime) -> list[tuple[str, datetime, str, str, str]]:
    from apps.frontline.models import ExaminationResult

    concerned = Q(target__nominated_by=user) | Q(target__claimed_by=user) | Q(original__recorded_by=user)
    if membership.role == Role.SUPERVISOR:
        concerned |= Q(target__owner_agency_id=membership.agency_id)
    rows = (
        ExaminationResult.objects.visible_to(user)
        .filter(concerned, original__isnull=False, recorded_at__gte=since)
        .exclude(recorded_by=user)
        .select_related("target", "recorded_by")
        .order_by("-recorded_at", "-pk")[:LIMIT]
    )
    out = []
    for row in rows:
        # A colleague is named; someone of a partner agency is not (as in the target's history).
        who = (
            _name(row.recorded_by)
            if row.recorded_by_agency_id == membership.agency_id
            else "A partner agency"
        )
        out.append(
            (
                f"correction-{row.pk}",
                row.recorded_at,
                f"Result corrected on {row.target.reference}",
                f"{who} corrected the examination result · {row.target.get_risk_area_display()}",
                reverse("targeting:detail", args=[row.target_id]),
            )
        )
    return out


def seen_at(user: Any) -> datetime | None:
    return NotificationsRead.objects.filter(user=user).values_list("seen_at", flat=True).first()


def feed(user: Any, now: datetime | None = None) -> list[Notice]:
    """The person's notifications, newest first, each marked unread when newer than their last look."""
    membership = membership_of(user)
    if membership is None:
        return []
    now = now or timezone.now()
    rows = [
        *_instructions(user, membership, now - INSTRUCTIONS_SINCE),
        *_mentions(user, now - OTHERS_SINCE),
        *_corrections(user, membership, now - OTHERS_SINCE),
    ]
    rows.sort(key=lambda r: r[1], reverse=True)
    last = seen_at(user)
    return [
        Notice(
            key=key,
            kind=key.split("-", 1)[0],
            at=at,
            title=title,
            text=text,
            url=url,
            unread=last is None or at > last,
        )
        for key, at, title, text, url in rows[:LIMIT]
    ]


def mark_seen(user: Any, now: datetime | None = None) -> None:
    """Everything up to now has been seen (the person opened the list)."""
    if membership_of(user) is None:
        return
    NotificationsRead.objects.update_or_create(user=user, defaults={"seen_at": now or timezone.now()})
