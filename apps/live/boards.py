"""Boards: which targets a board shows, who may open it, which groups feed it and what it draws.

A board is named by a key: ``floor`` (the national floor, optionally narrowed by ``port``, ``risk_area``
and ``agency`` query parameters: then it is a queue board), ``queue`` (the same, reached as a queue),
``port-<LOCODE>`` and ``operation-<pk>``. Pages (``views.py``) and sockets (``consumers.py``) resolve a
board through ``resolve_board`` so that the access rule is written once, and both narrow targets with
``Target.objects.visible_to(user)`` first, then the board's own filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from apps.agencies.models import Agency, Port
from apps.agencies.operations import can, membership_of
from apps.agencies.roles import Role
from apps.core.events import group_name
from apps.intake.models import Outcome
from apps.targeting.disclosure import random_control_agency, shows_random_control
from apps.targeting.models import RiskArea, Target, TargetState
from apps.targeting.routing import port_ids_of
from apps.targeting.transitions import FLOW_STATES

S = TargetState

#: The board's columns, in the order work flows across the floor (the state machine's, ``transitions``).
COLUMN_STATES: tuple[str, ...] = FLOW_STATES
#: Results stay on the board (as recent findings) for this long.
RESULTS_WINDOW = timedelta(hours=24)
#: Arrivals shown by default; ``?hours=`` changes it (1 to 48).
ARRIVALS_HOURS = 6
#: Cards drawn per column; the count shows how many more there are. A 1080-line wall display shows about a
#: dozen per column; drawing more only costs render time on every redraw (bench.flow).
CARDS_PER_COLUMN = 15
#: The board's named sections: each is a partial of ``live/board.html`` re-fetched on events.
SECTIONS: tuple[str, ...] = ("counts", "columns", "arrivals", "breaches", "findings")


class BoardRefused(Exception):
    """The board may not be opened: ``status`` is 403 (visible but not allowed) or 404 (no such board)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Board:
    """One resolved board: what it is called, what it filters on, and its stable key for sockets."""

    kind: str
    key: str
    title: str
    port: Port | None = None
    operation_id: int | None = None
    operation_name: str = ""
    risk_area: str = ""
    agency: Agency | None = None
    arrivals_hours: int = ARRIVALS_HOURS
    filters: dict[str, str] = field(default_factory=dict)

    def target_q(self) -> Q:
        """The board's own filter, applied on top of ``visible_to``."""
        q = Q()
        if self.port is not None:
            q &= Q(port_id=self.port.pk)
        if self.operation_id is not None:
            q &= Q(operation_id=self.operation_id)
        if self.risk_area:
            q &= Q(risk_area=self.risk_area)
        if self.agency is not None:
            q &= Q(owner_agency_id=self.agency.pk)
        return q

    @property
    def filter_key(self) -> str:
        """A string that names the board's filter exactly (per-event check results are shared by it)."""
        return "|".join(
            [
                self.kind,
                str(self.port.pk if self.port else ""),
                str(self.operation_id or ""),
                self.risk_area,
                str(self.agency.pk if self.agency else ""),
            ]
        )


def groups_for(membership: Any, board: Board) -> list[str]:
    """The groups that feed this member's copy of the board: never one group for everyone.

    Staff of an agency listen to their agency's group (every target it owns or is shared). A frontline
    officer listens to his ports' groups only (on a port board, that port's), so he is not woken by
    national work he will never see.
    """
    if membership.role == Role.FRONTLINE:
        port_ids = port_ids_of(membership)
        if board.port is not None:
            port_ids = port_ids & {board.port.pk}
        locodes = Port.objects.filter(pk__in=port_ids).order_by("locode").values_list("locode", flat=True)
        return [group_name("port", code) for code in locodes]
    return [group_name("agency", membership.agency_id)]


def resolve_board(user: Any, key: str, params: Any = None) -> Board:
    """The board named ``key`` (with query ``params``) if ``user`` may open it; else ``BoardRefused``.

    Rules: the role must allow ``board.view``; a port board (or a port filter) only for members who
    may see that port's work (national staff any port; port staff and frontline officers only their
    own ports); an operation board only for an agency taking part in the operation (else 404, as for an
    operation that does not exist).
    """
    params = params or {}
    membership = membership_of(user)
    if membership is None:
        raise BoardRefused(404, "Not found.")
    if not can(user, "board.view"):
        raise BoardRefused(403, "Your role has no live boards.")
    hours = _int_param(params.get("hours"), ARRIVALS_HOURS, 1, 48)
    if key in {"floor", "queue"}:
        port = _port(params.get("port")) if params.get("port") else None
        if port is not None:
            _check_port(membership, port)
        risk_area = params.get("risk_area") or ""
        if risk_area and risk_area not in RiskArea.values:
            raise BoardRefused(404, "No such risk area.")
        agency = None
        if params.get("agency"):
            agency = Agency.objects.filter(code=params["agency"]).first()
            if agency is None:
                raise BoardRefused(404, "No such agency.")
        filters = {
            k: v
            for k, v in (
                ("port", port and port.locode),
                ("risk_area", risk_area),
                ("agency", agency and agency.code),
            )
            if v
        }
        queue = key == "queue" or bool(filters)
        title = "Queue board" if queue else "National floor"
        return Board(
            kind="queue" if queue else "floor",
            key=key,
            title=title,
            port=port,
            risk_area=risk_area,
            agency=agency,
            arrivals_hours=hours,
            filters=filters,
        )
    if key.startswith("port-"):
        port = _port(key.removeprefix("port-"))
        _check_port(membership, port)
        return Board(
            kind="port", key=key, title=f"{port.name} ({port.locode})", port=port, arrivals_hours=hours
        )
    if key.startswith("operation-"):
        from apps.targeting.models import JointOperation

        pk = _int_param(key.removeprefix("operation-"), 0, 1, 2**63 - 1)
        operation = JointOperation.objects.visible_to(user).filter(pk=pk).only("pk", "name").first()
        if operation is None:
            raise BoardRefused(404, "Not found.")
        return Board(
            kind="operation",
            key=key,
            title=f"Operation {operation.name}",
            operation_id=operation.pk,
            operation_name=operation.name,
            arrivals_hours=hours,
        )
    raise BoardRefused(404, "No such board.")


def _int_param(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def _port(locode: str) -> Port:
    port = Port.objects.filter(locode=str(locode).upper()).first()
    if port is None:
        raise BoardRefused(404, "No such port.")
    return port


def _check_port(membership: Any, port: Port) -> None:
    own = port_ids_of(membership)
    if (own or membership.role == Role.FRONTLINE) and port.pk not in own:
        raise BoardRefused(403, f"{port.locode} is not one of your ports.")


def board_or_error(user: Any, key: str, params: Any = None) -> Board:
    """``resolve_board`` for views: 404 or 403 as Django exceptions."""
    try:
        return resolve_board(user, key, params)
    except BoardRefused as refused:
        if refused.status == 404:
            raise Http404(str(refused)) from None
        raise PermissionDenied(str(refused)) from None


def board_targets(user: Any, board: Board):
    """Every target this user may see on this board (any state)."""
    return Target.objects.visible_to(user).filter(board.target_q())


def on_board_q(now: datetime | None = None) -> Q:
    """Targets a board draws: those in a column, and results of the last day."""
    now = now or timezone.now()
    return Q(state__in=COLUMN_STATES) | Q(
        state__in=[S.RESULT_RECORDED, S.CLOSED], updated_at__gte=now - RESULTS_WINDOW
    )


def known_target_ids(user: Any, board: Board, limit: int = 5000) -> set[int]:
    """Ids of the targets the board shows now: a consumer may later tell the browser to remove these."""
    ids = board_targets(user, board).filter(on_board_q()).order_by().values_list("pk", flat=True)[:limit]
    return set(ids)


def _columns(cards: QuerySet[Target], counts: dict[str, int]) -> tuple[list[dict[str, Any]], list[Target]]:
    """The board's columns (their first cards, total and how many more) and every card they show."""
    # The first cards of every column in one query (a row number per state), not one query per column.
    ranked = cards.filter(state__in=COLUMN_STATES).annotate(
        place=Window(
            RowNumber(), partition_by=F("state"), order_by=[F("arrival_at").asc(), "-priority", "pk"]
        )
    )
    by_state: dict[str, list[Target]] = {state: [] for state in COLUMN_STATES}
    for target in ranked.filter(place__lte=CARDS_PER_COLUMN).order_by("state", "place"):
        by_state[target.state].append(target)
    columns = []
    shown: list[Target] = []
    for state in COLUMN_STATES:
        items = by_state[state]
        shown.extend(items)
        total = counts.get(state, 0)
        columns.append(
            {
                "state": state,
                "label": S(state).label,
                "cards": items,
                "total": total,
                "more": total - len(items),
            }
        )
    return columns, shown


def build_sections(user: Any, board: Board, now: datetime | None = None) -> dict[str, Any]:
    """Everything the board's partials draw, in a handful of queries, all through ``visible_to``."""
    from apps.live.presence import presence_for_board

    now = now or timezone.now()
    base = board_targets(user, board)
    cards = base.select_related("port", "owner_agency", "subject").only(
        "pk", "state", "version", "risk_area", "priority", "arrival_at", "created_at", "updated_at", "port__locode",
        "port__name", "port__mode", "owner_agency__code", "subject__kind", "claimed_by_id", "random_control",
    )  # fmt: skip
    counts = dict(
        base.filter(state__in=COLUMN_STATES)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    columns, shown = _columns(cards, counts)
    horizon = now + timedelta(hours=board.arrivals_hours)
    arrivals = list(
        cards.filter(arrival_at__gte=now, arrival_at__lte=horizon)
        .exclude(state__in=[S.CLOSED, S.REJECTED, S.WITHDRAWN, S.MISSED, S.RESULT_RECORDED])
        .order_by("arrival_at", "pk")[:20]
    )
    breaches = list(cards.breaching(now).order_by("arrival_at", "pk")[:20])
    finding = Outcome.objects.filter(subject_id=OuterRef("subject_id"), finding=True)
    findings = list(
        cards.filter(state__in=[S.RESULT_RECORDED, S.CLOSED], updated_at__gte=now - RESULTS_WINDOW)
        .annotate(found=Exists(finding))
        .order_by("-updated_at", "-pk")[:12]
    )
    presence = presence_for_board({t.pk for t in shown + arrivals + breaches + findings})
    random_agency = random_control_agency(user)
    for group in (shown, arrivals, breaches, findings):
        for target in group:
            # For the board's template (not fields, hence the ignores): who has the target open, and
            # whether the card may say it was drawn by chance (``disclosure``).
            target.present = presence.get(target.pk, [])  # type: ignore[union-attr]
            target.random_shown = shows_random_control(random_agency, target)  # type: ignore[union-attr]
    undecided = sum(counts.get(s, 0) for s in (S.NOMINATED, S.IN_REVIEW, S.AWAITING_APPROVAL))
    return {
        "board": board,
        "now": now,
        "columns": columns,
        "counts": {
            "open": sum(counts.values()),
            "undecided": undecided,
            "approved": counts.get(S.APPROVED, 0),
            "on_hold": counts.get(S.ON_HOLD, 0),
            "at_port": counts.get(S.DISPATCHED, 0) + counts.get(S.IN_EXAMINATION, 0),
            "breaches": base.breaching(now).count(),
            "arrivals": base.filter(arrival_at__gte=now, arrival_at__lte=horizon)
            .exclude(state__in=[S.CLOSED, S.REJECTED, S.WITHDRAWN, S.MISSED, S.RESULT_RECORDED])
            .count(),
            "findings": sum(1 for t in findings if t.found),
        },
        "arrivals": arrivals,
        "breaches": breaches,
        "findings": findings,
        "sections": SECTIONS,
    }
