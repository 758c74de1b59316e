"""Nominating a subject, the dispatch proposal of a port's shift, and joint operations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_http_methods, require_POST

from apps.agencies.models import Agency, ExaminationMethod, Port, Shift
from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.actions import acting, cleaned, refusal_text
from apps.core.errors import id_or_none
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.intake.models import Subject
from apps.targeting import flow, services
from apps.targeting.forms import (
    AcceptProposalForm,
    AddToOperationForm,
    NominateForm,
    OperationForm,
    ShiftForm,
)
from apps.targeting.masking import subject_view
from apps.targeting.models import OPEN_STATES, DispatchProposal, JointOperation, RiskArea, Target
from apps.targeting.views.common import list_queryset


@login_required
@require_http_methods(["GET", "POST"])
def nominate(request: AuthedRequest, subject_pk: int) -> HttpResponse:
    """Nominate a subject by hand: risk area, priority and why; from an assessment (``?assessment=``),
    the target also carries the assessment's reasons the nominator may see and links back to it."""
    check(request.user, "target.nominate")
    subject = get_object_for(request.user, Subject.objects.select_related("port"), pk=subject_pk)
    assessment = _assessment_of(request, subject)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = NominateForm(request.POST)
        try:
            data = cleaned(form)
            text = data["reason"]
            target, created = services.nominate(
                actor=request.user, subject=subject, risk_area=data["risk_area"],
                reasons=flow.assessment_reasons(request.user, assessment, text) if assessment else [],
                reason=text, priority=50 if data["priority"] is None else data["priority"],
            )  # fmt: skip
        except ValidationError as error:
            errors = _field_errors(form, error)
        except (PermissionDenied, ValueError) as error:
            errors = {"__all__": [str(error) or "Priority must be a number."]}
        else:
            if created:
                messages.success(request, f"{target.reference} nominated.")
            else:
                messages.info(
                    request, f"{target.reference} is already open on this subject in that risk area."
                )
            return redirect("targeting:detail", target.pk)
    open_targets = Target.objects.visible_to(request.user).filter(subject=subject, state__in=OPEN_STATES)
    initial: Any = request.POST
    if request.method == "GET" and assessment is not None:
        initial = {
            "risk_area": assessment.risk_area if assessment.risk_area in RiskArea.values else "",
            "priority": max(0, min(100, round(assessment.score))),
        }
    context = {
        "subject": subject_view(request.user, subject),
        "areas": RiskArea.choices,
        "errors": errors,
        "form_error": " ".join(errors.get("__all__", [])),
        "form": initial,
        "open_targets": open_targets,
        "can_nominate": can(request.user, "target.nominate"),
        "assessment": assessment,
        "carried": [r for r in flow.assessment_reasons(request.user, assessment, "") if r["kind"] != "person"]
        if assessment
        else [],
    }
    return render_page_or_fragment(request, "targeting/nominate.html", context)


def _field_errors(form: NominateForm, error: ValidationError) -> dict[str, list[str]]:
    """The errors by field for the page: the form's own, else the service's."""
    if form.errors:
        return {name: [str(t) for t in texts] for name, texts in form.errors.items()}
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _assessment_of(request: HttpRequest, subject: Subject) -> Any:
    """The assessment of ``subject`` named by ``?assessment=`` (or the form), if the nominator may read
    it (``rule.view`` and its ``visible_to``); anything else is ignored: the nomination stands alone."""
    from apps.risk.models import Assessment

    pk = id_or_none(request.POST.get("assessment") or request.GET.get("assessment"))
    if pk is None or not can(request.user, "rule.view"):
        return None
    return Assessment.objects.visible_to(request.user).filter(pk=pk, subject=subject).first()


@login_required
def dispatch(request: AuthedRequest) -> HttpResponse:
    """The dispatch proposal for a port and shift: what to examine within capacity, and what is left out."""
    check(request.user, "target.view")
    port = Port.objects.filter(locode=request.GET.get("port") or "").first()
    shift = request.GET.get("shift") or Shift.EARLY
    if shift not in Shift.values:
        shift = Shift.EARLY
    # The day of the shift: capacity comes from that day's calendar (a bad or missing date is today).
    try:
        day = parse_date(request.GET.get("date") or "") or timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    proposal = None
    if port is not None:
        proposal = (
            DispatchProposal.objects.visible_to(request.user).filter(port=port, shift=shift, date=day).first()
        )
    rows, left_out = _proposal_rows(request.user, proposal)
    context = {
        "ports": Port.objects.visible_to(request.user),
        "port": port,
        "shift": shift,
        "shifts": Shift.choices,
        "date": day,
        "proposal": proposal,
        "capacity": [
            {"method": m, "slots": n, "source": proposal.capacity_source.get(m, "weekly default")}
            for m, n in proposal.capacity.items()
        ]
        if proposal
        else [],
        "rows": rows,
        "left_out": left_out,
        "methods": ExaminationMethod.choices,
        "can_dispatch": can(request.user, "target.dispatch"),
        "gain": (proposal.expected_findings - proposal.baseline_findings) if proposal else 0,
    }
    return render_page_or_fragment(request, "targeting/dispatch.html", context)


def _proposal_rows(
    user: Any, proposal: DispatchProposal | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The proposal's chosen targets (with the analyst's instruction) and those left out, as ``user`` sees them."""
    if proposal is None:
        return [], []
    ids = [r["target"] for r in proposal.selected] + [r["target"] for r in proposal.left_out]
    targets = list_queryset(user).in_bulk(ids)
    rows = [
        {**r, "t": targets[r["target"]], "instruction": services.default_instruction(targets[r["target"]], user)}
        for r in proposal.selected
        if r["target"] in targets
    ]  # fmt: skip
    left_out = [{**r, "t": targets.get(r["target"])} for r in proposal.left_out if r["target"] in targets]
    return rows, left_out


def _shift_page(request: HttpRequest) -> str:
    """The dispatch page of the posted port, shift and day (the way back from proposing or accepting)."""
    form = ShiftForm(request.POST)
    if not form.is_valid():
        return reverse("targeting:dispatch")
    port = form.cleaned_data["port"]
    return f"{reverse('targeting:dispatch')}?port={port.locode}&shift={form.cleaned_data['shift']}&date={form.day().isoformat()}"


@login_required
@require_POST
@acting(_shift_page, also=(services.StaleChange,))
def propose(request: AuthedRequest) -> str:
    """Make (or make again) the proposal for a port's shift."""
    check(request.user, "target.view")
    form = ShiftForm(request.POST)
    data = cleaned(form)
    services.propose_dispatch(actor=request.user, port=data["port"], shift=data["shift"], date=form.day())
    return ""


@login_required
@require_POST
@acting(_shift_page, also=(services.StaleChange,))
def accept(request: AuthedRequest) -> str:
    """Accept a proposal: the chosen method per target, and what each officer is told."""
    check(request.user, "target.view")
    form = AcceptProposalForm(request.POST, user=request.user)
    data = cleaned(form)
    done, problems = services.accept_proposal(
        actor=request.user, proposal=data["proposal"],
        choices={pk: method for pk, method in form.per_target("method-").items() if method},
        # The instruction box per target: what the officer is told (prefilled with the analyst's words).
        instructions=form.per_target("instruction-"),
    )  # fmt: skip
    for problem in problems:
        messages.warning(request, problem)
    return f"{len(done)} instruction(s) sent to {data['port'].name}."


@login_required
@require_http_methods(["GET", "POST"])
def operations(request: AuthedRequest) -> HttpResponse:
    """Joint operations the viewer's agency runs or takes part in; a new one can be opened here."""
    check(request.user, "target.view")
    if request.method == "POST":
        try:
            data = cleaned(OperationForm(request.POST))
            op = services.create_operation(actor=request.user, name=data["name"], starts_at=data["starts_at"],
                                           ends_at=data["ends_at"], agencies=data["agencies"],
                                           description=data["description"])  # fmt: skip
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, refusal_text(error))
            return redirect("targeting:operations")
        return redirect("targeting:operation", op.pk)
    ops = (
        JointOperation.objects.visible_to(request.user)
        .select_related("owner_agency")
        .prefetch_related("agencies")
    )
    now = timezone.now()
    context = {
        "operations": ops,
        "now": now,
        "can_create": can(request.user, "target.share"),
        "agencies": Agency.objects.exclude(pk=membership_of(request.user).agency_id),
        "default_start": now.strftime("%Y-%m-%dT%H:%M"),
        "default_end": (now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
    }
    return render_page_or_fragment(request, "targeting/operations.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def operation(request: AuthedRequest, pk: int) -> HttpResponse:
    """One joint operation: its window, agencies, members and its own queue of targets."""
    check(request.user, "target.view")
    op = get_object_for(request.user, JointOperation.objects.select_related("owner_agency"), pk=pk)
    if request.method == "POST":
        try:
            data = cleaned(AddToOperationForm(request.POST))
            target = get_object_for(request.user, Target, pk=data["target"])
            services.add_to_operation(actor=request.user, operation=op, target=target)
            messages.success(request, f"{target.reference} added to {op.name}.")
        except Http404:
            messages.error(request, "No such target among those you may see.")
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, refusal_text(error))
        return redirect("targeting:operation", op.pk)
    now = timezone.now()
    targets = list_queryset(request.user).filter(operation=op).with_urgency(now).order_by("-urgency")
    context = {
        "op": op,
        "targets": targets,
        "members": op.members.select_related("membership__agency"),
        "agencies": op.agencies.all(),
        "now": now,
        "can_add": can(request.user, "target.withdraw"),
    }
    return render_page_or_fragment(request, "targeting/operation.html", context)
