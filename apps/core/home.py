"""The home page's panels: per role, the counts and short lists of what that person acts on now.

Every count and every row comes through the model's ``visible_to(user)`` (a count is a disclosure too),
and every panel links to the page that lists exactly what it counted (``/targets/?work=<name>`` for the
target worklists of ``apps.targeting.worklists``). The home page is not behind the personal-data gate,
so no panel names a person: targets are shown by reference, risk area, state and port, hits by list and
kind, unmasking requests by who asked.

The home page is the floor's front door and reads every app's work, so this module imports the apps
above ``core`` inside its functions; nothing below imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from apps.agencies.operations import can, membership_of
from apps.agencies.roles import Role
from apps.core.timewords import until

__all__ = ["PANELS_BY_ROLE", "Panel", "Row", "panels_for"]

ROWS = 5
#: A dispatch proposal older than this is for a shift that has passed.
PROPOSAL_HOURS = 12


@dataclass(frozen=True)
class Row:
    label: str
    url: str
    detail: str = ""
    alert: bool = False


@dataclass
class Panel:
    key: str
    title: str
    url: str
    count: int | None = None
    rows: list[Row] = field(default_factory=list)
    empty: str = "Nothing waiting."
    #: A count above zero needs attention now (breaches, approvals): drawn in the warning colour.
    urgent: bool = False
    #: For a panel that is a state rather than a count (integrity): "ok" or "broken", and its words.
    status: str = ""
    status_text: str = ""


# --- targets ----------------------------------------------------------------------------------------------


def _when(target: Any, now: datetime) -> str:
    if target.arrival_at is None:
        return ""
    if target.arrival_at <= now:
        return "arrived"
    return f"arrives in {until(target.arrival_at, now, depth=1)}"


def _target_row(target: Any, now: datetime) -> Row:
    parts = [target.get_state_display()]
    if target.port_id:
        parts.append(target.port.locode)
    if when := _when(target, now):
        parts.append(when)
    breached = target.sla_status(now) == "breached"
    if breached:
        parts.append("past its decision time")
    return Row(
        label=f"{target.reference} · {target.get_risk_area_display()}",
        url=reverse("targeting:detail", args=[target.pk]),
        detail=" · ".join(parts),
        alert=breached,
    )


def _worklist_panel(
    key: str, *, empty: str, urgent: bool = False, recent_first: bool = False, title: str = ""
) -> Callable[[Any, datetime], Panel | None]:
    def build(user: Any, now: datetime) -> Panel | None:
        from apps.targeting.worklists import WORKLISTS, worklist

        spec = WORKLISTS[key]
        if not can(user, spec.operation):
            return None
        rows = worklist(user, key, now).select_related("port")
        order = ("-updated_at", "-pk") if recent_first else (F("arrival_at").asc(nulls_last=True), "pk")
        shown = list(rows.order_by(*order)[:ROWS])
        count = len(shown) if len(shown) < ROWS else rows.count()
        return Panel(
            key=key,
            title=title or spec.label,
            url=f"{reverse('targeting:list')}?work={key}",
            count=count,
            rows=[_target_row(t, now) for t in shown],
            empty=empty,
            urgent=urgent,
        )

    return build


# --- other work -------------------------------------------------------------------------------------------


def _hits_to_rule(user: Any, now: datetime) -> Panel | None:
    if not can(user, "hit.rule"):
        return None
    from apps.watchlists.rulings import pending_hits

    hits = pending_hits(user)
    shown = list(hits[:ROWS])
    rows = [
        Row(
            label=f"{hit.entry.watchlist.name}",
            url=reverse("watchlists:hits"),
            detail=f"{hit.subject.get_kind_display()} · match {hit.score:.0%} · "
            f"seen {date_format(timezone.localtime(hit.last_seen_at), 'j M H:i')}",
        )
        for hit in shown
    ]
    count = len(shown) if len(shown) < ROWS else hits.count()
    return Panel("hits", "Watchlist hits to rule", reverse("watchlists:hits"), count, rows,
                 empty="No hit waits for a ruling.")  # fmt: skip


def _proposals(user: Any, now: datetime) -> Panel | None:
    if not can(user, "target.dispatch"):
        return None
    from apps.agencies.models import Shift
    from apps.targeting.models import DispatchProposal

    latest: dict[tuple[int, str], Any] = {}
    recent = DispatchProposal.objects.visible_to(user).filter(
        created_at__gte=now - timedelta(hours=PROPOSAL_HOURS)
    )
    for proposal in recent.select_related("port").order_by("-created_at")[:50]:
        latest.setdefault((proposal.port_id, proposal.shift), proposal)
    waiting = [p for p in latest.values() if p.accepted_at is None]
    shifts = dict(Shift.choices)
    rows = [
        Row(
            label=f"{p.port.name} · {shifts.get(p.shift, p.shift)} shift",
            url=f"{reverse('targeting:dispatch')}?port={p.port.locode}&shift={p.shift}",
            detail=f"{len(p.selected)} to examine, {len(p.left_out)} left out · proposed "
            f"{date_format(timezone.localtime(p.created_at), 'H:i')}",
        )
        for p in waiting[:ROWS]
    ]
    return Panel("proposals", "Dispatch proposals to accept", reverse("targeting:dispatch"), len(waiting), rows,
                 empty="No proposal waits; propose one for a port and shift.")  # fmt: skip


def _instructions(user: Any, now: datetime) -> Panel | None:
    if not can(user, "exam.record"):
        return None
    from apps.frontline import services

    ports = services.officer_ports(user)
    shift = services.current_shift(ports[0] if ports else None, now)
    open_now = services.open_instructions(user, shift=shift)
    rows = []
    for instruction in open_now[:ROWS]:
        target = instruction.target
        parts = [instruction.get_method_display(), instruction.port.locode]
        if when := _when(target, now):
            parts.append(when)
        rows.append(
            Row(
                label=f"{target.reference} · {target.get_risk_area_display()}",
                url=reverse("frontline:instruction", args=[instruction.pk]),
                detail=" · ".join(parts),
            )
        )
    where = ", ".join(p.name for p in ports) or "Your ports"
    return Panel("instructions", "My open instructions", reverse("frontline:home"), len(open_now), rows,
                 empty="No open instruction for this shift.",
                 status_text=f"{where} · {dict(services.Shift.choices)[shift]} shift")  # fmt: skip


def _unmasking(user: Any, now: datetime) -> Panel | None:
    if not can(user, "unmask.approve"):
        return None
    from apps.compliance.models import UnmaskRequest

    pending = (
        UnmaskRequest.objects.visible_to(user)
        .filter(status=UnmaskRequest.Status.PENDING)
        .exclude(requested_by=user)  # nobody decides his own request
        .select_related("requested_by", "agency")
    )
    shown = list(pending.order_by("created_at")[:ROWS])
    rows = [
        Row(
            label=f"Asked by {r.requested_by.get_full_name() or r.requested_by.username}",
            url=reverse("compliance:unmask"),
            detail=f"{r.agency.code} · {date_format(timezone.localtime(r.created_at), 'j M H:i')}",
        )
        for r in shown
    ]
    count = len(shown) if len(shown) < ROWS else pending.count()
    return Panel("unmask", "Unmasking requests to decide", reverse("compliance:unmask"), count, rows,
                 empty="No request waits for a decision.", urgent=True)  # fmt: skip


def _integrity(user: Any, now: datetime) -> Panel | None:
    """The append-only records' chains, checked from their last checkpoint (as the oversight page does):
    their state only, never how many rows they hold (they span every agency)."""
    if not can(user, "audit.view"):
        return None
    from apps.compliance.registry import chained_models
    from apps.compliance.verification import verify_chain

    rows = []
    broken = 0
    for model in chained_models():
        report = verify_chain(model, full=False)
        broken += not report.ok
        rows.append(
            Row(
                label=str(model._meta.verbose_name_plural).capitalize(),
                url=reverse("compliance:oversight"),
                detail="intact" if report.ok else f"broken: {report.reason}",
                alert=not report.ok,
            )
        )
    status_text = "Every record is intact." if not broken else f"{broken} chain(s) broken: see oversight."
    return Panel("integrity", "Integrity of the records", reverse("compliance:oversight"), None, rows,
                 status="ok" if not broken else "broken", status_text=status_text)  # fmt: skip


def _handover(user: Any, now: datetime) -> Panel | None:
    from apps.handover.home import panel

    return panel(user, now)


# --- per role ---------------------------------------------------------------------------------------------

_claimed = _worklist_panel("claimed", empty="You hold no claim. Claim a target from a queue.")
_drafts = _worklist_panel("drafts", empty="Every target you nominated has been taken up.",
                          title="Awaiting my action: my nominations")  # fmt: skip
_results = _worklist_panel("results", empty="No new result on a target you nominated.",
                           recent_first=True, title="New results on targets I nominated")  # fmt: skip
_approve = _worklist_panel("approve", empty="Nothing awaits your approval.", urgent=True)
_breaching = _worklist_panel("breaching", empty="No target is past its decision time.", urgent=True)
_held = _worklist_panel("held", empty="No target is on hold.", title="Holds")
_dispatch = _worklist_panel("dispatch", empty="No approved target waits for dispatch.")
_shared = _worklist_panel("shared", empty="Nothing is shared with your agency yet.",
                          title="Targets shared with my agency", recent_first=True)  # fmt: skip

PANELS_BY_ROLE: dict[str, tuple[Callable[[Any, datetime], Panel | None], ...]] = {
    Role.ANALYST: (_claimed, _drafts, _results, _hits_to_rule),
    Role.SUPERVISOR: (_handover, _approve, _breaching, _held, _proposals, _dispatch),
    Role.FRONTLINE: (_instructions,),
    Role.AUDITOR: (_unmasking, _integrity),
    Role.LIAISON: (_handover, _shared, _held, _hits_to_rule),
    Role.RISK_MANAGER: (_hits_to_rule,),
    Role.MANAGER: (_breaching, _held),
}


def panels_for(user: Any, now: datetime | None = None) -> list[Panel]:
    """The panels of the user's role, in order (none for a role without floor work: admin, integrator)."""
    membership = membership_of(user)
    if membership is None:
        return []
    now = now or timezone.now()
    panels = (build(user, now) for build in PANELS_BY_ROLE.get(membership.role, ()))
    return [p for p in panels if p is not None]
