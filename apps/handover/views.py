"""Pages of the shift handover. Thin: ``services`` checks role and desk and does the work."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from apps.agencies.models import Shift
from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.actions import acting_on, cleaned
from apps.core.errors import id_or_none
from apps.core.requests import AuthedRequest
from apps.handover import services
from apps.handover.forms import AcknowledgeForm, CloseItemForm, ItemForm, PrepareForm, SubmitForm
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
    form = PrepareForm(request.POST, desks={d.key: d for d in services.desks_for(request.user)})
    if not form.is_valid():  # a desk not the person's, or a day that is not one (2026-02-30)
        messages.error(request, "Choose one of your desks and the shift's date.")
        return redirect("handover:list")
    data = form.cleaned_data
    try:
        handover = services.prepare_handover(
            actor=request.user, desk=data["desk"], shift_date=data["shift_date"], shift=data["shift"]
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


def _back(request: HttpRequest, handover: Handover, **kwargs: Any) -> str:
    return reverse("handover:detail", args=[handover.pk])


#: An action on one handover: on a handover the person may see (else 404, 403 without ``handover.view``);
#: a refusal comes back as a message on the handover's page.
on_handover = acting_on(_handover, _back)


@on_handover
def add_item(request: AuthedRequest, handover: Handover) -> str:
    from apps.targeting.models import Target

    data = cleaned(ItemForm(request.POST))
    target_pk = id_or_none(data["target"])
    target = Target.objects.visible_to(request.user).filter(pk=target_pk).first() if target_pk else None
    services.add_item(actor=request.user, handover=handover, text=data["text"], target=target)
    return "Item added."


@on_handover
def close_item(request: AuthedRequest, handover: Handover, item_pk: int) -> str:
    item = get_object_for(request.user, HandoverItem.objects.filter(handover=handover), pk=item_pk)
    data = cleaned(CloseItemForm(request.POST))
    services.close_item(actor=request.user, item=item, resolution=data["resolution"])
    return "Item closed."


@on_handover
def refresh(request: AuthedRequest, handover: Handover) -> str:
    services.refresh_summary(actor=request.user, handover=handover)
    return "Summary brought up to date."


@on_handover
def submit(request: AuthedRequest, handover: Handover) -> str:
    data = cleaned(SubmitForm(request.POST))
    services.submit_handover(actor=request.user, handover=handover, notes=data["notes"])
    return "Handed over: it now waits for the incoming supervisor's acknowledgement."


@on_handover
def acknowledge(request: AuthedRequest, handover: Handover) -> str:
    data = cleaned(AcknowledgeForm(request.POST))
    services.acknowledge_handover(actor=request.user, handover=handover, note=data["note"])
    return "Acknowledged: the desk is yours."
