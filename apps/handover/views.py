"""Pages of the shift handover. Thin: ``services`` checks role and desk and does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_POST

from apps.agencies.models import Shift
from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.errors import id_or_none
from apps.core.requests import AuthedRequest
from apps.handover import services
from apps.handover.models import Handover, HandoverItem

SECTIONS = (
    ("breaches", "Past their decision time"),
    ("holds", "Holds"),
    ("claims", "Claims"),
    ("requests", "Partner requests"),
    ("results", "Notable results this shift"),
)


def _say(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
def handover_list(request: AuthedRequest) -> HttpResponse:
    check(request.user, "handover.view")
    shift_date, shift = services.current_shift()
    rows = Handover.objects.visible_to(request.user).select_related(
        "port", "prepared_by", "submitted_by", "acknowledged_by"
    )[:40]
    context = {
        "handovers": rows,
        "desks": services.desks_for(request.user) if can(request.user, "handover.write") else [],
        "shifts": Shift.choices,
        "shift_date": shift_date,
        "shift": shift,
    }
    return render(request, "handover/list.html", context)


@login_required
@require_POST
def prepare(request: AuthedRequest) -> HttpResponse:
    check(request.user, "handover.write")
    desks = {d.key: d for d in services.desks_for(request.user)}
    desk = desks.get(request.POST.get("desk", ""))
    try:
        shift_date = parse_date(request.POST.get("shift_date") or "")
    except ValueError:  # well formed but not a day (2026-02-30)
        shift_date = None
    if desk is None or shift_date is None:
        messages.error(request, "Choose one of your desks and the shift's date.")
        return redirect("handover:list")
    try:
        handover = services.prepare_handover(
            actor=request.user, desk=desk, shift_date=shift_date, shift=request.POST.get("shift", "")
        )
    except ValidationError as error:
        _say(request, error)
        return redirect("handover:list")
    return redirect("handover:detail", pk=handover.pk)


def _handover(request: HttpRequest, pk: int) -> Handover:
    return get_object_for(
        request.user,
        Handover.objects.select_related(
            "port", "owner_agency", "prepared_by", "submitted_by", "acknowledged_by"
        ),
        operation="handover.view",
        pk=pk,
    )


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    handover = _handover(request, pk)
    membership = membership_of(request.user)
    serves = services.may_serve(membership, handover.desk_kind, handover.port)
    summary = handover.summary or {}
    targets: dict[int, str] = {}
    for key, _ in SECTIONS:
        for row in summary.get(key, {}).get("rows", []):
            targets.setdefault(row["target"], f"{row['ref']} · {row['area']}")
    context = {
        "handover": handover,
        "summary": summary,
        "computed_at": parse_datetime(summary.get("computed_at") or ""),
        "sections": [(key, label, summary.get(key, {"count": 0, "rows": []})) for key, label in SECTIONS],
        "items": handover.items.select_related("target", "raised_by", "closed_by", "carried_from__handover"),
        "records": handover.records.select_related("actor").order_by("at", "pk"),
        "may_write": handover.is_open and serves and can(request.user, "handover.write"),
        "may_acknowledge": handover.state == Handover.State.SUBMITTED
        and serves
        and can(request.user, "handover.acknowledge")
        and handover.submitted_by_id != request.user.pk,
        "target_choices": sorted(targets.items(), key=lambda kv: kv[1]),
    }
    return render(request, "handover/detail.html", context)


def _act(request: HttpRequest, pk: int, action) -> HttpResponse:
    handover = _handover(request, pk)
    try:
        note = action(handover)
    except ValidationError as error:
        _say(request, error)
    else:
        if note:
            messages.success(request, note)
    return redirect("handover:detail", pk=handover.pk)


@login_required
@require_POST
def add_item(request: AuthedRequest, pk: int) -> HttpResponse:
    def do(handover: Handover) -> str:
        from apps.targeting.models import Target

        target_pk = id_or_none(request.POST.get("target"))
        target = Target.objects.visible_to(request.user).filter(pk=target_pk).first() if target_pk else None
        services.add_item(
            actor=request.user, handover=handover, text=request.POST.get("text", ""), target=target
        )
        return "Item added."

    return _act(request, pk, do)


@login_required
@require_POST
def close_item(request: AuthedRequest, pk: int, item_pk: int) -> HttpResponse:
    def do(handover: Handover) -> str:
        item = get_object_for(request.user, HandoverItem.objects.filter(handover=handover), pk=item_pk)
        services.close_item(actor=request.user, item=item, resolution=request.POST.get("resolution", ""))
        return "Item closed."

    return _act(request, pk, do)


@login_required
@require_POST
def refresh(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda h: services.refresh_summary(actor=request.user, handover=h) and "Summary brought up to date.",
    )


@login_required
@require_POST
def submit(request: AuthedRequest, pk: int) -> HttpResponse:
    def do(handover: Handover) -> str:
        services.submit_handover(actor=request.user, handover=handover, notes=request.POST.get("notes", ""))
        return "Handed over: it now waits for the incoming supervisor's acknowledgement."

    return _act(request, pk, do)


@login_required
@require_POST
def acknowledge(request: AuthedRequest, pk: int) -> HttpResponse:
    def do(handover: Handover) -> str:
        services.acknowledge_handover(
            actor=request.user, handover=handover, note=request.POST.get("note", "")
        )
        return "Acknowledged: the desk is yours."

    return _act(request, pk, do)
