"""The shift handover's steps: prepare (summary computed, open items carried over), add and close items,
submit, acknowledge. Each checks role and desk first; each is recorded in ``HandoverRecord``.

The summary is computed through the targeting models' own scoping (``Target.objects.visible_to`` and
its children's), as the outgoing supervisor sees them, narrowed to the desk (a port desk: its port). It
names targets by reference, risk area, state and port only, as the home page does: nothing personal and
no reasons, so it may be read by anyone of the desk's agency who may read handovers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.agencies.models import AgencyKind, Port, Shift
from apps.agencies.operations import check, membership_of
from apps.compliance.chain import append
from apps.handover.models import DeskKind, Handover, HandoverItem, HandoverRecord

__all__ = [
    "Desk",
    "acknowledge_handover",
    "add_item",
    "close_item",
    "compute_summary",
    "current_shift",
    "desks_for",
    "may_serve",
    "prepare_handover",
    "submit_handover",
]

#: Rows kept per section of a summary (the count is kept whole).
SECTION_ROWS = 25
#: Without a previous handover, results "of the shift" are those of the last shift's length.
SHIFT_LENGTH = dt.timedelta(hours=8)
SHIFT_STARTS: dict[str, int] = {Shift.EARLY: 6, Shift.LATE: 14, Shift.NIGHT: 22}


class HandoverConflict(ValidationError):
    """Someone else moved the handover first (the page says so and shows it as it is now)."""


@dataclass(frozen=True)
class Desk:
    kind: str
    port: Port | None = None

    @property
    def key(self) -> str:
        return f"port:{self.port.locode}" if self.kind == DeskKind.PORT and self.port else self.kind

    @property
    def label(self) -> str:
        if self.kind == DeskKind.PORT and self.port:
            return f"{self.port.name} port desk"
        return DeskKind(self.kind).label


def current_shift(now: dt.datetime | None = None) -> tuple[dt.date, str]:
    """The shift running now (UTC) and the date it started on: 23:00 and 02:00 are one night."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    hour = now.hour
    if 6 <= hour < 14:
        return now.date(), Shift.EARLY
    if 14 <= hour < 22:
        return now.date(), Shift.LATE
    return (now.date() if hour >= 22 else now.date() - dt.timedelta(days=1)), Shift.NIGHT


def _is_customs(membership: Any) -> bool:
    return membership.agency.kind == AgencyKind.CUSTOMS


def may_serve(membership: Any, kind: str, port: Port | None) -> bool:
    """Whether the member may write or acknowledge the handover of this desk of his agency.

    A port team serves its ports' desks; the national staff of a customs agency serve the national desk
    and every port's; a partner agency's people serve their agency's desk.
    """
    from apps.targeting.routing import is_port_team, port_ids_of

    if membership is None:
        return False
    if is_port_team(membership):
        return kind == DeskKind.PORT and port is not None and port.pk in port_ids_of(membership)
    if kind == DeskKind.AGENCY:
        return not _is_customs(membership)
    if kind == DeskKind.NATIONAL:
        return _is_customs(membership)
    return kind == DeskKind.PORT and port is not None and _is_customs(membership)


def desks_for(user: Any) -> list[Desk]:
    """The desks this person may hand over, in the order the page offers them."""
    membership = membership_of(user)
    if membership is None:
        return []
    candidates = [Desk(DeskKind.NATIONAL), Desk(DeskKind.AGENCY)]
    candidates += [Desk(DeskKind.PORT, port) for port in Port.objects.order_by("name")]
    return [d for d in candidates if may_serve(membership, d.kind, d.port)]


# --- the summary ---------------------------------------------------------------------------------------


def _row(target: Any, detail: str = "") -> dict[str, Any]:
    return {
        "target": target.pk,
        "ref": target.reference,
        "area": target.get_risk_area_display(),
        "state": target.get_state_display(),
        "port": target.port.locode if target.port is not None else "",
        "detail": detail,
    }


def _section(rows: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"count": total, "rows": rows[:SECTION_ROWS]}


def _when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d %b %H:%M") if moment else ""


def compute_summary(
    actor: User, desk: Desk, *, since: dt.datetime | None = None, now: dt.datetime | None = None
) -> dict:
    """What the desk has open now, as the actor may see it: targets by state, holds, claims, service-
    level breaches, notable results since ``since``, and partner requests."""
    from apps.targeting.models import FINAL_STATES, Hold, Target, TargetState

    now = now or timezone.now()
    since = since or now - SHIFT_LENGTH
    membership = membership_of(actor)
    targets = Target.objects.visible_to(actor)
    if desk.kind == DeskKind.PORT and desk.port is not None:
        targets = targets.filter(port=desk.port)
    in_scope = targets.values("pk")
    states = dict(
        targets.exclude(state__in=sorted(FINAL_STATES))
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    labels: dict[str, str] = dict(TargetState.choices)  # the choices of Target.state
    by_state = [{"state": s, "label": labels[s], "count": states[s]} for s in labels if states.get(s)]
    holds = Hold.objects.visible_to(actor).filter(released_at__isnull=True, target__in=in_scope)
    return {
        "computed_at": now.isoformat(),
        "since": since.isoformat(),
        "open_by_state": by_state,
        "open_total": sum(states.values()),
        "holds": _holds_section(holds),
        "claims": _claims_section(targets),
        "breaches": _breaches_section(targets, now),
        "results": _results_section(actor, in_scope, since),
        "requests": _requests_section(actor, holds, membership.agency_id, in_scope),
    }


def _holds_section(holds: QuerySet[Any]) -> dict[str, Any]:
    """The desk's holds in force, oldest first."""
    hold_rows = [
        _row(h.target, f"held by {h.agency.code} since {_when(h.placed_at)}")
        for h in holds.select_related("target", "target__port", "agency").order_by("placed_at")[:SECTION_ROWS]
    ]
    return _section(hold_rows, holds.count())


def _claims_section(targets: Any) -> dict[str, Any]:
    """Open targets someone has claimed, oldest claim first."""
    from apps.targeting.models import OPEN_STATES

    claims = targets.filter(claimed_by__isnull=False, state__in=sorted(OPEN_STATES))
    claim_rows = [
        _row(
            t, f"claimed by {t.claimed_by.get_full_name() or t.claimed_by.username} at {_when(t.claimed_at)}"
        )
        for t in claims.select_related("port", "claimed_by").order_by("claimed_at")[:SECTION_ROWS]
    ]
    return _section(claim_rows, claims.count())


def _breaches_section(targets: Any, now: dt.datetime) -> dict[str, Any]:
    """Targets past their decision deadline, earliest arrival first."""
    breaching = targets.breaching(now)
    breach_rows = [
        _row(t, f"decision was due {_when(t.sla_deadline())}")
        for t in breaching.select_related("port").order_by(F("arrival_at").asc(nulls_last=True))[
            :SECTION_ROWS
        ]
    ]
    return _section(breach_rows, breaching.count())


def _results_section(actor: User, in_scope: QuerySet[Any], since: dt.datetime) -> dict[str, Any]:
    """Examinations with a finding recorded since ``since``, latest first."""
    from apps.frontline.models import FINDING_OUTCOMES, ExaminationResult

    results = ExaminationResult.objects.visible_to(actor).filter(
        target__in=in_scope, recorded_at__gte=since, outcome__in=sorted(FINDING_OUTCOMES)
    )
    result_rows = [
        _row(r.target, f"{r.get_outcome_display()} ({r.get_method_display()}) at {_when(r.recorded_at)}")
        for r in results.select_related("target", "target__port").order_by("-recorded_at")[:SECTION_ROWS]
    ]
    return _section(result_rows, results.count())


def _requests_section(
    actor: User, holds: QuerySet[Any], agency_id: int, in_scope: QuerySet[Any]
) -> dict[str, Any]:
    """Partner requests on the desk's targets: holds by other agencies and shares awaiting consent."""
    from apps.targeting.models import HandlingCode, TargetShare

    # Partner requests: another agency's hold on a target of the desk, and a share that waits for its
    # owner's consent before the partner may act (either side of it: the desk owns it or is waiting).
    partner_holds = holds.exclude(agency_id=agency_id)
    consents = TargetShare.objects.visible_to(actor).filter(
        target__in=in_scope, code=HandlingCode.CONSENT, consent_given_at__isnull=True
    )
    request_rows = [
        _row(h.target, f"{h.agency.code} asks that it is not examined (hold since {_when(h.placed_at)})")
        for h in partner_holds.select_related("target", "target__port", "agency").order_by("placed_at")[
            :SECTION_ROWS
        ]
    ] + [
        _row(s.target, f"{s.agency.code} waits for the owner's consent to act (shared {_when(s.shared_at)})")
        for s in consents.select_related("target", "target__port", "agency").order_by("shared_at")[
            :SECTION_ROWS
        ]
    ]
    return _section(request_rows, partner_holds.count() + consents.count())


# --- the steps -----------------------------------------------------------------------------------------


def _record(handover: Handover, action: str, actor: User) -> None:
    handover.refresh_from_db()
    content = {
        "summary": handover.summary,
        "notes": handover.notes,
        "acknowledgement": handover.acknowledgement,
        "items": list(
            handover.items.order_by("pk").values(
                "pk", "text", "target_id", "status", "resolution", "carried_from_id"
            )
        ),
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder).encode()).hexdigest()
    append(
        HandoverRecord,
        handover=handover,
        action=action,
        actor=actor,
        actor_agency_id=membership_of(actor).agency_id,
        digest=digest,
    )


def _previous(agency_id: int, desk: Desk, shift_date: dt.date, shift: str) -> Handover | None:
    """The desk's last handed-over handover before this shift."""
    order: dict[str, int] = {s: i for i, s in enumerate(SHIFT_STARTS)}
    earlier = Handover.objects.filter(
        owner_agency_id=agency_id,
        desk=desk.key,
        state__in=[Handover.State.SUBMITTED, Handover.State.ACKNOWLEDGED],
    ).filter(
        Q(shift_date__lt=shift_date)
        | Q(shift_date=shift_date, shift__in=[s for s in order if order[s] < order[shift]])
    )
    return earlier.order_by("-shift_date", "-submitted_at", "-pk").first()


def prepare_handover(
    *, actor: User, desk: Desk, shift_date: dt.date, shift: str, now: dt.datetime | None = None
) -> Handover:
    """Open the desk's handover for a shift (or return the draft already open): the summary is computed
    now and every item still open in the desk's previous handover is carried over."""
    check(actor, "handover.write")
    membership = membership_of(actor)
    if shift not in Shift.values:
        raise ValidationError({"shift": "Choose a shift."})
    if not may_serve(membership, desk.kind, desk.port):
        raise PermissionDenied("You do not serve this desk.")
    now = now or timezone.now()
    with transaction.atomic():
        existing = (
            Handover.objects.select_for_update()
            .filter(owner_agency_id=membership.agency_id, desk=desk.key, shift_date=shift_date, shift=shift)
            .first()
        )
        if existing is not None:
            if existing.state != Handover.State.DRAFT:
                raise ValidationError("This shift's handover for the desk has already been handed over.")
            return existing
        previous = _previous(membership.agency_id, desk, shift_date, shift)
        handover = Handover.objects.create(
            owner_agency_id=membership.agency_id,
            desk_kind=desk.kind,
            port=desk.port,
            desk=desk.key,
            shift_date=shift_date,
            shift=shift,
            previous=previous,
            prepared_by=actor,
            prepared_at=now,
            summary=compute_summary(actor, desk, since=previous.submitted_at if previous else None, now=now),
        )
        if previous is not None:
            HandoverItem.objects.bulk_create(
                HandoverItem(
                    handover=handover,
                    text=item.text,
                    target_id=item.target_id,
                    carried_from=item,
                    raised_by_id=item.raised_by_id,
                    raised_at=item.raised_at,
                )
                for item in previous.items.filter(status=HandoverItem.Status.OPEN).order_by("raised_at", "pk")
            )
        _record(handover, "prepared", actor)
    return handover


def _draft_for(actor: User, handover: Handover) -> None:
    check(actor, "handover.write", handover)
    if handover.state != Handover.State.DRAFT:
        raise ValidationError("This handover has been handed over: it no longer changes.")


def refresh_summary(*, actor: User, handover: Handover, now: dt.datetime | None = None) -> Handover:
    """Compute the draft's summary again (the shift goes on while it is written)."""
    _draft_for(actor, handover)
    desk = Desk(handover.desk_kind, handover.port)
    since = handover.previous.submitted_at if handover.previous is not None else None
    updated = Handover.objects.filter(pk=handover.pk, state=Handover.State.DRAFT).update(
        summary=compute_summary(actor, desk, since=since, now=now), version=F("version") + 1
    )
    if updated != 1:
        raise HandoverConflict("The handover was handed over meanwhile.")
    handover.refresh_from_db()
    return handover


def add_item(*, actor: User, handover: Handover, text: str, target: Any = None) -> HandoverItem:
    """An open item for the next shift, optionally about one target the actor may see."""
    _draft_for(actor, handover)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Say what the next shift must do."})
    if target is not None:
        from apps.targeting.models import Target

        if not Target.objects.visible_to(actor).filter(pk=target.pk).exists():
            raise ValidationError({"target": "No such target."})
    return HandoverItem.objects.create(handover=handover, text=text[:2000], target=target, raised_by=actor)


def close_item(*, actor: User, item: HandoverItem, resolution: str) -> HandoverItem:
    """Mark an item done (it is not carried over); a carried item's history stays in earlier handovers."""
    _draft_for(actor, item.handover)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": "Say how it was done."})
    item.status = HandoverItem.Status.DONE
    item.resolution = resolution[:2000]
    item.closed_by = actor
    item.save(update_fields=["status", "resolution", "closed_by"])
    return item


def submit_handover(
    *, actor: User, handover: Handover, notes: str, now: dt.datetime | None = None
) -> Handover:
    """Hand over: the summary is computed a last time, and from here the handover no longer changes."""
    _draft_for(actor, handover)
    now = now or timezone.now()
    desk = Desk(handover.desk_kind, handover.port)
    since = handover.previous.submitted_at if handover.previous is not None else None
    with transaction.atomic():
        updated = Handover.objects.filter(
            pk=handover.pk, state=Handover.State.DRAFT, version=handover.version
        ).update(
            summary=compute_summary(actor, desk, since=since, now=now),
            notes=(notes or "").strip()[:10_000],
            state=Handover.State.SUBMITTED,
            submitted_by=actor,
            submitted_at=now,
            version=F("version") + 1,
        )
        if updated != 1:
            raise HandoverConflict("The handover changed meanwhile: look at it again before handing over.")
        _record(handover, "submitted", actor)
    return handover


def acknowledge_handover(
    *, actor: User, handover: Handover, note: str = "", now: dt.datetime | None = None
) -> Handover:
    """The incoming supervisor takes the desk: someone other than the one who handed over."""
    check(actor, "handover.acknowledge", handover)
    if handover.state != Handover.State.SUBMITTED:
        raise ValidationError("Only a handover awaiting acknowledgement can be acknowledged.")
    if handover.submitted_by_id == actor.pk:
        raise PermissionDenied("The incoming supervisor acknowledges a handover, not the one who wrote it.")
    with transaction.atomic():
        updated = Handover.objects.filter(
            pk=handover.pk, state=Handover.State.SUBMITTED, version=handover.version
        ).update(
            state=Handover.State.ACKNOWLEDGED,
            acknowledged_by=actor,
            acknowledged_at=now or timezone.now(),
            acknowledgement=(note or "").strip()[:2000],
            version=F("version") + 1,
        )
        if updated != 1:
            raise HandoverConflict("Someone acknowledged this handover first.")
        _record(handover, "acknowledged", actor)
    return handover


def awaiting(user: Any) -> Any:
    """Handovers the user may see that wait: drafts being written and those not yet acknowledged."""
    return (
        Handover.objects.visible_to(user)
        .filter(state__in=[Handover.State.DRAFT, Handover.State.SUBMITTED])
        .select_related("port", "submitted_by", "prepared_by")
    )
