"""Read-side helpers shared by pages, the API and exports: queues, actions a viewer may take, filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, Window
from django.utils import timezone

from apps.agencies.models import Agency, CentreConfiguration, Port
from apps.agencies.operations import can, membership_of
from apps.core.errors import id_or_none
from apps.targeting.models import OPEN_STATES, UNDECIDED_STATES, RiskArea, Target, TargetState, breach_q
from apps.targeting.routing import check_target_operation

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
#: Actions never offered on a random-control target: the random sample is not thinned by decisions.
RANDOM_CONTROL_KEPT = frozenset({"reject", "withdraw"})


class TargetAccess:
    """What one viewer may do on one target, for the buttons of one page or answer.

    It decides exactly as ``operations.check`` does (the target is visible, the role allows the
    operation, the agency and the routing team may act), but asks the database whether the target is
    visible once and reads the centre's configuration once, instead of once per button. The services
    still check every change.
    """

    def __init__(
        self,
        user: Any,
        target: Target,
        *,
        config: CentreConfiguration | None = None,
        visible: bool | None = None,
    ) -> None:
        """``visible=True`` when the caller loaded ``target`` through ``visible_to(user)`` in this request."""
        self.user = user
        self.target = target
        self.membership = membership_of(user)
        self._config = config
        if visible is not None:
            self.__dict__["visible"] = visible and self.membership is not None

    @cached_property
    def visible(self) -> bool:
        if self.membership is None:
            return False
        return Target.objects.visible_to(self.user).filter(pk=self.target.pk).exists()

    @property
    def config(self) -> CentreConfiguration:
        if self._config is None:
            self._config = CentreConfiguration.current()
        return self._config

    def may(self, operation: str) -> bool:
        if not can(self.user, operation) or not self.visible:
            return False
        try:
            check_target_operation(self.membership, self.target, operation, self.config)
        except PermissionDenied:
            return False
        return True

    def actions(self) -> list[str]:
        """The transitions this viewer may make on the target now.

        A random-control target is never offered for rejection or withdrawal (the services refuse both);
        a supervisor who may reject is offered "Mark missed" instead, which asks for a reason.
        """
        state = self.target.state
        names = []
        for name, (_, op, states, _, _) in ACTIONS.items():
            if self.target.random_control:
                if name in RANDOM_CONTROL_KEPT:
                    continue
                if name == "mark_missed" and state in UNDECIDED_STATES:
                    op, states = "target.reject", UNDECIDED_STATES
            if state in states and self.may(op):
                names.append(name)
        return names


def allowed_actions(user: Any, target: Target, *, access: TargetAccess | None = None) -> list[str]:
    """The transitions this user may make on this target now (for buttons; the services still check)."""
    return (access or TargetAccess(user, target)).actions()


def may(user: Any, operation: str, target: Target) -> bool:
    return TargetAccess(user, target).may(operation)


def urgent_page(queryset: Any, number: Any, *, now: datetime, per_page: int) -> Page:
    """One page of ``queryset`` (scoped and filtered already), most urgent first.

    Ranked in two steps so that the ranking over every open target of a queue reads only the narrow
    ``target_open_queue`` index: first the page's ids (and the count) from the index, then the page's
    rows with their port, owner and claimant. The rows are loaded through ``queryset`` again, so a
    target that left the scope between the two steps is not shown.
    """
    ranked = queryset.with_urgency(now).order_by("-urgency", "arrival_at", "id")
    paginator = Paginator(ranked.values_list("pk", flat=True), per_page)
    # The page's ids and the queue's length in one scan (a window count), not a second COUNT query.
    raw = str(number or "1")
    found = []
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 1_000_000:
        first = (int(raw) - 1) * per_page
        found = list(
            ranked.annotate(total=Window(Count("pk"))).values_list("pk", "total")[first : first + per_page]
        )
    if found:
        paginator.count = found[0][1]  # the paginator's cached count, so it asks the database no more
        page = paginator.page(int(raw))
        ids = [pk for pk, _ in found]
    else:  # an empty queue, a page past its end or not a number: the paginator's own answer
        page = paginator.get_page(number)
        ids = list(page.object_list)
    rows = queryset.select_related("port", "owner_agency", "claimed_by").with_urgency(now).in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


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
    breach = Count("pk", filter=breach_q(now))
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


def filter_targets(queryset: Any, params: Any, user: Any) -> Any:
    """Apply the common filters (``port`` LOCODE, ``risk_area``, ``agency`` id, ``state``, ``operation``).

    ``operation`` filters only by an operation the user's agency takes part in: counting the targets of
    another agency's operation would tell what the operation itself (404) does not.
    """
    if params.get("port"):
        queryset = queryset.filter(port__locode=params["port"])
    if params.get("risk_area"):
        queryset = queryset.filter(risk_area=params["risk_area"])
    if (agency := id_or_none(params.get("agency"))) is not None:
        queryset = queryset.filter(owner_agency_id=agency)
    if params.get("state") in S.values:
        queryset = queryset.filter(state=params["state"])
    if params.get("work"):  # a worklist of the home page: "my claims", "awaiting my approval"...
        from apps.targeting.worklists import worklist_q

        if (work := worklist_q(params["work"], user)) is not None:
            queryset = queryset.filter(work)
    if params.get("operation") not in (None, ""):
        from apps.targeting.models import JointOperation

        operation = id_or_none(params.get("operation"))
        if operation is None or not JointOperation.objects.visible_to(user).filter(pk=operation).exists():
            return queryset.none()
        queryset = queryset.filter(operation_id=operation)
    return queryset
