"""Read-side helpers shared by pages, the API and exports: queues, actions a viewer may take, filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q
from django.http import Http404
from django.utils import timezone

from apps.agencies.models import Agency, Port
from apps.agencies.operations import check
from apps.targeting.models import DECISION_LEAD, OPEN_STATES, UNDECIDED_STATES, RiskArea, Target, TargetState

S = TargetState

#: action name → (service function name, operation, legal from-states, label, style)
ACTIONS: dict[str, tuple[str, str, frozenset[str], str, str]] = {
    "start_review": ("start_review", "target.review", frozenset({S.NOMINATED}), "Start review", "primary"),
    "submit": ("submit_for_approval", "target.review", frozenset({S.IN_REVIEW}), "Submit for approval", "primary"),
    "approve": ("approve_target", "target.approve", frozenset({S.AWAITING_APPROVAL}), "Approve", "primary"),
    "reject": ("reject_target", "target.reject", frozenset(UNDECIDED_STATES), "Reject", "danger"),
    "withdraw": ("withdraw_target", "target.withdraw", frozenset(UNDECIDED_STATES | {S.APPROVED}), "Withdraw", ""),
    "dispatch": ("dispatch_target", "target.dispatch", frozenset({S.APPROVED}), "Dispatch", "primary"),
    "start_examination": ("start_examination", "exam.record", frozenset({S.DISPATCHED}), "Start examination", "primary"),
    "record_result": ("record_result", "exam.record", frozenset({S.DISPATCHED, S.IN_EXAMINATION}), "Record result", "primary"),
    "close": ("close_target", "target.review", frozenset({S.RESULT_RECORDED}), "Close", "primary"),
    "mark_missed": ("mark_missed", "target.dispatch", frozenset({S.APPROVED, S.DISPATCHED}), "Mark missed", ""),
}  # fmt: skip
#: Actions whose reason is required.
REASON_REQUIRED = {"reject", "withdraw"}


def allowed_actions(user: Any, target: Target) -> list[str]:
    """The transitions this user may make on this target now (for buttons; the services still check)."""
    allowed = []
    for name, (_, operation, states, _, _) in ACTIONS.items():
        if target.state not in states:
            continue
        try:
            check(user, operation, target)
        except (PermissionDenied, Http404):
            continue
        allowed.append(name)
    return allowed


def may(user: Any, operation: str, target: Target) -> bool:
    try:
        check(user, operation, target)
    except (PermissionDenied, Http404):
        return False
    return True


@dataclass
class QueueLine:
    key: str
    label: str
    count: int
    oldest: datetime | None
    breaches: int
    param: str


def queue_summary(user: Any, now: datetime | None = None) -> dict[str, list[QueueLine]]:
    """Open targets the user may see, counted by port, risk area and owner agency (with oldest, breaches)."""
    now = now or timezone.now()
    base = Target.objects.visible_to(user).filter(state__in=OPEN_STATES)
    breach = Count("pk", filter=Q(state__in=UNDECIDED_STATES, arrival_at__lte=now + DECISION_LEAD))
    ports = dict(Port.objects.values_list("pk", "name"))
    locodes = dict(Port.objects.values_list("pk", "locode"))
    agencies = dict(Agency.objects.values_list("pk", "name"))
    areas = dict(RiskArea.choices)
    out: dict[str, list[QueueLine]] = {}
    for dimension, field, labels, keys in (
        ("port", "port_id", ports, locodes),
        ("risk_area", "risk_area", areas, None),
        ("agency", "owner_agency_id", agencies, None),
    ):
        rows = (
            base.order_by()
            .values(field)
            .annotate(count=Count("pk"), oldest=Min("created_at"), breaches=breach)
        )
        lines = [
            QueueLine(
                key=str(row[field] or ""),
                label=labels.get(row[field], "No port") if row[field] is not None else "No port",
                count=row["count"],
                oldest=row["oldest"],
                breaches=row["breaches"],
                param=(keys or {}).get(row[field], str(row[field] or "")),
            )
            for row in rows
        ]
        out[dimension] = sorted(lines, key=lambda line: (-line.breaches, -line.count, line.label))
    return out


def filter_targets(queryset: Any, params: Any) -> Any:
    """Apply the common filters (``port`` LOCODE, ``risk_area``, ``agency`` id, ``state``, ``operation``)."""
    if params.get("port"):
        queryset = queryset.filter(port__locode=params["port"])
    if params.get("risk_area"):
        queryset = queryset.filter(risk_area=params["risk_area"])
    if str(params.get("agency", "")).isdigit():
        queryset = queryset.filter(owner_agency_id=int(params["agency"]))
    if params.get("state") in S.values:
        queryset = queryset.filter(state=params["state"])
    if str(params.get("operation", "")).isdigit():
        queryset = queryset.filter(operation_id=int(params["operation"]))
    return queryset
