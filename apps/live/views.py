"""Board pages: one view per board kind, each answering with the whole page or one named section.

An htmx request (``HX-Request``) with ``?section=<name>`` gets that section's partial; ``section=all``
gets every section at once (what the board script fetches after an event or a resync). Every query
goes through ``Target.objects.visible_to(request.user)`` inside ``build_sections``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apps.agencies.models import Agency, Port
from apps.agencies.operations import membership_of
from apps.agencies.roles import Role
from apps.agencies.scoping import get_object_for
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.live import notifications as notices
from apps.live.boards import SECTIONS, Board, board_or_error, build_sections
from apps.live.presence import HEARTBEAT_SECONDS, present_on
from apps.targeting.models import RiskArea, Target
from apps.targeting.routing import port_ids_of

TEMPLATE = "live/board.html"


def _filter_choices(request: HttpRequest) -> dict[str, Any]:
    membership = membership_of(request.user)
    own = port_ids_of(membership)
    ports = Port.objects.order_by("name")
    if own or membership.role == Role.FRONTLINE:
        ports = ports.filter(pk__in=own)
    return {
        "ports": list(ports.only("locode", "name")),
        "risk_areas": RiskArea.choices,
        "agencies": list(Agency.objects.order_by("code").only("code", "name")),
    }


def _render_board(request: HttpRequest, board: Board) -> HttpResponse:
    context = build_sections(request.user, board)
    section = request.GET.get("section", "")
    fragment = "sections" if section == "all" else section if section in SECTIONS else None
    query = request.GET.copy()
    query.pop("section", None)
    ws_query = query.copy()
    ws_query.pop("hours", None)
    context.update(
        query=query.urlencode(),
        ws_url=f"/ws/boards/{board.key}/" + (f"?{ws_query.urlencode()}" if ws_query else ""),
        **(_filter_choices(request) if fragment is None else {}),
    )
    return render_page_or_fragment(request, TEMPLATE, context, fragment=fragment)


@login_required
@require_GET
def floor(request: AuthedRequest) -> HttpResponse:
    """The national floor board; with ``port``/``risk_area``/``agency`` filters, a queue board."""
    return _render_board(request, board_or_error(request.user, "floor", request.GET))


@login_required
@require_GET
def queue(request: AuthedRequest) -> HttpResponse:
    """A queue board: the floor narrowed by port, risk area and owner agency (query parameters)."""
    return _render_board(request, board_or_error(request.user, "queue", request.GET))


@login_required
@require_GET
def port(request: AuthedRequest, locode: str) -> HttpResponse:
    """One port's board, for members who may see that port's work."""
    return _render_board(request, board_or_error(request.user, f"port-{locode.upper()}", request.GET))


@login_required
@require_GET
def operation(request: AuthedRequest, pk: int) -> HttpResponse:
    """A joint operation's board, for the agencies taking part (404 for the others)."""
    return _render_board(request, board_or_error(request.user, f"operation-{pk}", request.GET))


@login_required
@require_GET
def presence(request: AuthedRequest, pk: int) -> HttpResponse:
    """Who is on this target now: the fragment ``live/_presence.html`` draws (404 outside scope)."""
    target = get_object_for(request.user, Target, pk=pk)
    return render_page_or_fragment(
        request,
        "live/_presence.html",
        {"target": target, "present": present_on(target.pk), "heartbeat": HEARTBEAT_SECONDS, "fetched": True},
        fragment="people",
    )


@login_required
@require_GET
@never_cache
def notifications(request: AuthedRequest) -> HttpResponse:
    """The signed-in person's notifications (``live/_notifications.html``), re-fetched by
    ``static/js/notifications.js`` when ``ws/notifications/`` says something changed."""
    items = notices.feed(request.user)
    return render(
        request,
        "live/_notifications.html",
        {"items": items, "unread": sum(1 for i in items if i.unread)},
    )


@login_required
@require_POST
def notifications_seen(request: AuthedRequest) -> HttpResponse:
    """The person opened the list: nothing in it is unread any more."""
    notices.mark_seen(request.user)
    return HttpResponse(status=204)
