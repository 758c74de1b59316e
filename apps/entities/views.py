"""The network page, its JSON (the first draw and each expansion on click), and confirm or split.

Thin: ``apps.entities.network`` builds the graph through the viewer's scope and masking,
``apps.entities.services`` decides on links. Both network routes are gated in ``urls.py`` (purpose, one
access-log entry for the opened subject); every other subject drawn is logged here, as the person page
logs the records it merges.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from apps.agencies.operations import can, check
from apps.agencies.scoping import get_object_for
from apps.core.actions import cleaned
from apps.core.requests import AuthedRequest
from apps.entities.forms import LinkDecisionForm
from apps.entities.models import EntityLink, LinkDecision
from apps.entities.network import EDGE_KINDS, MAX_HOPS, Graph, network
from apps.entities.services import decide_link
from apps.intake.models import Subject


def _filters(request: HttpRequest) -> dict[str, Any]:
    """Hops, edge kinds and period from the query string; what cannot be read falls back to the default."""
    try:
        hops = max(1, min(MAX_HOPS, int(request.GET.get("hops", 2))))
    except ValueError:
        hops = 2
    kinds = {k for k in request.GET.getlist("kind") if k in EDGE_KINDS} or set(EDGE_KINDS)

    def day(name: str, end: bool) -> datetime | None:
        try:
            value = parse_date(request.GET.get(name, "") or "")
        except ValueError:
            return None
        if value is None:
            return None
        return timezone.make_aware(datetime.combine(value, time.max if end else time.min))

    return {"hops": hops, "kinds": kinds, "since": day("since", False), "until": day("until", True)}


def _log_nodes(request: HttpRequest, graph: Graph) -> None:
    """One access-log entry per subject drawn besides the opened one (the gate logs that one)."""
    from apps.compliance.services import record_access

    surface = request.resolver_match.view_name if request.resolver_match else request.path
    subjects = Subject.objects.filter(pk__in=[pk for pk in graph.nodes if pk != graph.root])
    for subject in subjects.select_related("source"):
        note = " (depersonalised)" if graph.nodes[subject.pk]["masked"] else ""
        record_access(
            request=request, action="view", object_type="subject", object_id=subject.pk,
            summary=f"{surface}: in the network of subject {graph.root}{note}", obj=subject,
        )  # fmt: skip


def _root(request: AuthedRequest, pk: int) -> Subject:
    subject = get_object_for(request.user, Subject.objects.select_related("source"), pk=pk)
    check(request.user, "subject.view", subject)
    return subject


@login_required
def network_page(request: AuthedRequest, pk: int) -> HttpResponse:
    subject = _root(request, pk)
    filters = _filters(request)
    graph = network(request.user, subject, **filters)
    _log_nodes(request, graph)
    context = {
        "subject": graph.nodes[subject.pk],
        "graph": graph.as_json(),
        "filters": filters,
        "edge_kinds": EDGE_KINDS,
        "hop_choices": range(1, MAX_HOPS + 1),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
        "can_decide": can(request.user, "entity.decide"),
    }
    return render(request, "entities/network.html", context)


@login_required
def network_json(request: AuthedRequest, pk: int) -> JsonResponse:
    """The graph as JSON: the page's expand-on-click asks for one hop around the clicked node."""
    subject = _root(request, pk)
    graph = network(request.user, subject, **_filters(request))
    _log_nodes(request, graph)
    return JsonResponse(graph.as_json())


@login_required
@require_POST
def decide(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm or split a same-person/trader link; back to the network it was decided on."""
    link = get_object_for(
        request.user, EntityLink.objects.select_related("from_subject", "to_subject"), pk=pk
    )
    form = LinkDecisionForm(request.POST)
    data = cleaned(form)  # text only: always valid
    decision = data["decision"]
    try:
        decide_link(actor=request.user, link=link, decision=decision, reason=data["reason"])
    except (ValueError, ValidationError) as error:
        messages.error(request, str(error))
    else:
        label = dict(LinkDecision.Decision.choices).get(decision, decision)
        messages.success(request, f"Link {label.lower()}; the decision holds on every later import.")
    if back := form.back_url():
        return redirect(back)
    return redirect("entities:network", pk=link.from_subject_id)
