"""The queues, the list of targets and the instructions of a port."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone

from apps.agencies.models import Agency, Port
from apps.agencies.operations import can, check, membership_of
from apps.agencies.roles import Role
from apps.core.errors import id_or_none
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.targeting.models import OPEN_STATES, Hold, Instruction, RiskArea, Target, TargetState
from apps.targeting.queries import filter_targets, queue_summary, urgent_page
from apps.targeting.routing import port_ids_of, what_you_see
from apps.targeting.templatetags.targeting import ROW_FIELDS
from apps.targeting.views.common import PAGE_SIZE, list_queryset


@login_required
def queues(request: AuthedRequest) -> HttpResponse:
    """The overview: queues by port, risk area and agency with count, oldest and breaches."""
    check(request.user, "target.view")
    now = timezone.now()
    summary = queue_summary(request.user, now)
    visible = list_queryset(request.user)
    context = {
        "summary": summary,
        "now": now,
        "mine": visible.filter(claimed_by=request.user, state__in=OPEN_STATES)
        .with_urgency(now)
        .order_by("-urgency")[:10],
        "breaching": visible.breaching(now).with_urgency(now).order_by("arrival_at")[:10],
        "open_total": sum(line.count for line in summary["agency"]),
        "breach_total": sum(line.breaches for line in summary["agency"]),
    }
    return render_page_or_fragment(request, "targeting/queues.html", context, fragment="overview")


@login_required
def queue(request: AuthedRequest) -> HttpResponse:
    """One shared queue (filtered by port, risk area, agency or operation), most urgent first."""
    check(request.user, "target.view")
    now = timezone.now()
    targets = filter_targets(
        Target.objects.visible_to(request.user).filter(state__in=OPEN_STATES), request.GET, request.user
    )
    # The rows read what the table's renderer reads, nothing more (``ROW_FIELDS``).
    page = urgent_page(targets, request.GET.get("page"), now=now, per_page=PAGE_SIZE, fields=ROW_FIELDS)
    title = _queue_title(request.GET, page.object_list)
    context = {"page": page, "title": title, "now": now, "can_claim": can(request.user, "target.claim")}
    return render_page_or_fragment(request, "targeting/queue.html", context, fragment="rows")


def _queue_title(params: Any, rows: Any = ()) -> str:
    parts = []
    if params.get("port"):
        # The rows of a port's queue came with their port (``urgent_page``): its name needs no query.
        loaded = next((t.port for t in rows if t.port is not None and t.port.locode == params["port"]), None)
        parts.append(
            (loaded.name if loaded is not None else None)
            or Port.objects.filter(locode=params["port"]).values_list("name", flat=True).first()
            or params["port"]
        )
    if params.get("risk_area") in RiskArea.values:
        parts.append(RiskArea(params["risk_area"]).label)
    if id_or_none(params.get("agency")) is not None:
        parts.append(Agency.objects.filter(pk=params["agency"]).values_list("name", flat=True).first() or "")
    return " · ".join(p for p in parts if p) or "All open targets"


@login_required
def target_list(request: AuthedRequest) -> HttpResponse:
    """Every target the viewer may see, filtered by state, port, risk area or reference."""
    check(request.user, "target.view")
    targets = filter_targets(list_queryset(request.user), request.GET, request.user).order_by(
        "-created_at", "-id"
    )
    ref = request.GET.get("q", "").strip().upper().removeprefix("T-")
    if ref.isascii() and ref.isdigit():
        targets = targets.filter(pk=id_or_none(ref) or 0)
    page = Paginator(targets, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "states": TargetState.choices,
        "areas": RiskArea.choices,
        "ports": Port.objects.visible_to(request.user),
        "filters": request.GET,
        "now": timezone.now(),
        "what_you_see": what_you_see(membership_of(request.user)),
    }
    return render_page_or_fragment(request, "targeting/list.html", context, fragment="rows")


@login_required
def instructions(request: AuthedRequest) -> HttpResponse:
    """Examination instructions for my ports (a frontline officer), or all I may see (the floor)."""
    check(request.user, "target.view")
    membership = membership_of(request.user)
    found = Instruction.objects.visible_to(request.user).select_related("port", "target", "dispatched_by")
    port_ids = port_ids_of(membership)
    if port_ids:
        found = found.filter(port_id__in=port_ids)
    found = found.prefetch_related(
        Prefetch("target__holds", queryset=Hold.objects.filter(released_at__isnull=True))
    )
    context = {
        "instructions": found[:200],
        "ports": Port.objects.filter(pk__in=port_ids),
        "is_frontline": membership.role == Role.FRONTLINE,
    }
    return render_page_or_fragment(request, "targeting/instructions.html", context, fragment="list")
