"""Targeting pages: thin views over ``queries`` (reading) and ``services`` (every change).

Each page scopes through ``visible_to``; a target outside the viewer's scope is 404. Forms are POST with
CSRF; a stale change or an illegal move comes back as a message on the page, never a stack trace.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from apps.agencies.models import Agency, ExaminationMethod, Port, Shift
from apps.agencies.operations import can, check, membership_of
from apps.agencies.roles import Role
from apps.agencies.scoping import get_object_for
from apps.core import csvsafe
from apps.core.errors import id_or_none
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest, note_object
from apps.intake.models import Subject
from apps.targeting import flow, services, transitions
from apps.targeting.disclosure import disclose
from apps.targeting.masking import subject_view
from apps.targeting.models import (
    OPEN_STATES,
    Attachment,
    Comment,
    DispatchProposal,
    HandlingCode,
    Hold,
    Instruction,
    JointOperation,
    RiskArea,
    Target,
    TargetShare,
    TargetState,
)
from apps.targeting.queries import (
    TargetAccess,
    filter_targets,
    queue_summary,
    urgent_page,
)
from apps.targeting.routing import deciding_team_label, port_ids_of, what_you_see

PAGE_SIZE = 50


def _list_queryset(user: Any):
    # No subject: the lists show none of it, and joining the subjects table costs more than the page.
    return Target.objects.visible_to(user).select_related("port", "owner_agency", "claimed_by")


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@login_required
def queues(request: AuthedRequest) -> HttpResponse:
    """The overview: queues by port, risk area and agency with count, oldest and breaches."""
    check(request.user, "target.view")
    now = timezone.now()
    summary = queue_summary(request.user, now)
    visible = _list_queryset(request.user)
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
    page = urgent_page(targets, request.GET.get("page"), now=now, per_page=PAGE_SIZE)
    title = _queue_title(request.GET)
    context = {"page": page, "title": title, "now": now, "can_claim": can(request.user, "target.claim")}
    return render_page_or_fragment(request, "targeting/queue.html", context, fragment="rows")


def _queue_title(params: Any) -> str:
    parts = []
    if params.get("port"):
        parts.append(
            Port.objects.filter(locode=params["port"]).values_list("name", flat=True).first()
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
    targets = filter_targets(_list_queryset(request.user), request.GET, request.user).order_by(
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
def export(request: AuthedRequest) -> StreamingHttpResponse:
    """CSV of the targets the viewer may see (with the same filters as the list); no personal fields."""
    check(request.user, "target.view")
    targets = filter_targets(_list_queryset(request.user), request.GET, request.user).order_by("id")

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csvsafe.writer(Echo())

    def rows():
        yield writer.writerow(["reference", "state", "version", "risk_area", "priority", "owner_agency", "port",
                               "arrival_at", "created_at"])  # fmt: skip
        for t in targets.iterator(chunk_size=1000):
            yield writer.writerow([t.reference, t.state, t.version, t.risk_area, t.display_priority, t.owner_agency.code,
                                   t.port.locode if t.port else "", t.arrival_at, t.created_at])  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="targets.csv"'
    return response


@login_required
def export_target(request: AuthedRequest, pk: int) -> HttpResponse:
    """CSV of one target's history as the viewer may read it (404 to anyone it is not shared with)."""
    check(request.user, "target.view")
    target = get_object_for(request.user, Target, pk=pk)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{target.reference}.csv"'
    writer = csvsafe.writer(response)
    writer.writerow(["reference", "at", "from", "to", "version", "agency", "reason", "reason_withheld"])
    for line in disclose(request.user, target).history():
        writer.writerow([target.reference, line.at.isoformat(), line.from_state, line.to_state, line.version,
                         line.agency or "system", line.reason, "yes" if line.withheld else ""])  # fmt: skip
    return response


def _detail_context(request: HttpRequest, target: Target) -> dict[str, Any]:
    user = request.user
    membership = membership_of(user)
    seen = disclose(user, target)  # everything of the target below is rendered from what this returns
    holds = [seen.hold(h) for h in target.holds.select_related("agency", "placed_by", "released_by")]
    shares = list(target.shares.select_related("agency", "shared_by", "consent_given_by"))
    comments = (
        Comment.objects.visible_to(user)
        .filter(target=target)
        .select_related("author", "owner_agency")
        .prefetch_related("attachments", "mentions", "shared_with")
    )
    # One visibility query and one read of the configuration for every button of the page.
    access = TargetAccess(user, target, visible=True)  # the view loaded it through visible_to
    actions = [
        {"name": m.action, "label": m.label, "style": m.style, "reason_required": m.reason_required}
        for m in access.moves()
    ]
    owner = membership.agency_id == target.owner_agency_id
    return {
        "target": target,
        "subject": seen.subject,
        "reasons": seen.reasons,
        "history": seen.history(),
        "operation": seen.operation,
        "briefing_only": seen.briefing_only,
        "holds": holds,
        "active_holds": [h for h in holds if h.active],
        "my_agency_id": membership.agency_id,
        "shares": shares,
        "comments": comments,
        "actions": [a for a in actions if a["name"] != "dispatch"],
        "can_dispatch": "dispatch" in {a["name"] for a in actions},
        # The dispatch box starts with what the analyst wrote for the port (``services.default_instruction``).
        "default_instruction": services.default_instruction(target, user) if "dispatch" in {a["name"] for a in actions} else "",
        "methods": ExaminationMethod.choices,
        "instructions": target.instructions.select_related("port", "dispatched_by"),
        "can_claim": access.may("target.claim") and target.state in OPEN_STATES,
        "can_hold": access.may("target.hold") and target.state in services.HOLDABLE_STATES | {"on_hold"},
        "can_comment": access.may("target.comment"),
        "can_share": access.may("target.share")
        and (owner or any(s.agency_id == membership.agency_id and s.code == HandlingCode.PASS_ON for s in shares)),
        "is_owner": owner,
        "share_agencies": Agency.objects.exclude(pk=target.owner_agency_id),
        "codes": HandlingCode.choices if owner else [(HandlingCode.SEE, "May see"), (HandlingCode.CONSENT, "Owner consent before action")],
        "team": deciding_team_label(target, access.config),
        "now": timezone.now(),
        # What the target came from and what came of it, each only if the viewer may open it.
        "links": flow.links_for_target(user, target, seen),
        "results": seen.results(),
    }  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A target: reasons, subject (masked as the law says), history, holds, sharing, comments, actions."""
    check(request.user, "target.view")
    queryset = Target.objects.select_related(
        "port", "owner_agency", "claimed_by", "subject", "subject__port", "subject__source", "operation"
    )
    target = get_object_for(request.user, queryset, pk=pk)
    if request.method == "POST":
        url = _next_url(request, reverse("targeting:detail", args=[target.pk]))
        try:
            note = _post_on_target(request, target)
        except (services.StaleChange, services.TransitionRefused, PermissionDenied, ValidationError) as error:
            messages.error(request, _error_text(error))
        else:
            if note:
                messages.success(request, note)
        return redirect(url)
    # Purpose and the access log, for the page and its htmx panel alike: the gate in ``urls.py``.
    note_object(request, target)  # loaded with its subject: the log names the data's owner from it
    return render_page_or_fragment(
        request, "targeting/detail.html", _detail_context(request, target), fragment="panel"
    )


def _post_on_target(request: AuthedRequest, target: Target) -> str:
    """Dispatch one form post on the detail page to its service; returns what to tell the user."""
    user, data = request.user, request.POST
    name = data.get("do", "")
    version = id_or_none(data.get("version"))
    reason = data.get("reason", "").strip()
    if name in transitions.buttons():
        target = services.run_action(
            actor=user, target=target, action=name, expected_version=version, reason=reason,
            method=data.get("method", ""), instruction=data.get("instruction", ""),
        )  # fmt: skip
        return f"{target.reference} is now “{target.get_state_display()}”."
    if name == "claim":
        services.claim_target(actor=user, target=target)
        return f"You are working {target.reference}."
    if name == "release":
        services.release_claim(actor=user, target=target)
        return f"{target.reference} is back in the queue."
    if name == "hold":
        services.place_hold(actor=user, target=target, reason=reason, expected_version=version)
        return f"{target.reference} is on hold under your agency's control."
    if name == "release_hold":
        hold_pk = data.get("hold", "")
        hold = get_object_for(user, Hold, pk=id_or_none(hold_pk) or 0, target=target)
        services.release_hold(actor=user, hold=hold, reason=reason)
        return "Hold released."
    if name == "comment":
        services.add_comment(actor=user, target=target, body=data.get("body", ""),
                             attachments=request.FILES.getlist("attachments"), private=bool(data.get("private")))  # fmt: skip
        return "Comment added."
    if name == "share":
        agency_pk = data.get("agency", "")
        agency = Agency.objects.filter(pk=id_or_none(agency_pk) or 0).first()
        if agency is None:
            raise ValidationError("Choose an agency to share with (field “agency”).")
        services.share_target(
            actor=user, target=target, agency=agency, code=data.get("code", HandlingCode.SEE)
        )
        return f"Shared with {agency.name}."
    if name == "consent":
        share_pk = data.get("share", "")
        share = (
            TargetShare.objects.filter(target=target, pk=id_or_none(share_pk) or 0)
            .select_related("agency")
            .first()
        )
        if share is None:
            raise Http404("Not found.")
        services.give_consent(actor=user, share=share, reason=reason)
        return f"{share.agency.name} may now act."
    raise ValidationError("Unknown action.")


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
        text = request.POST.get("reason", "")
        try:
            target, created = services.nominate(
                actor=request.user, subject=subject, risk_area=request.POST.get("risk_area", ""),
                reasons=flow.assessment_reasons(request.user, assessment, text) if assessment else [],
                reason=text, priority=int(request.POST.get("priority") or 50),
            )  # fmt: skip
        except ValidationError as error:
            errors = error.message_dict
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


def _assessment_of(request: HttpRequest, subject: Subject) -> Any:
    """The assessment of ``subject`` named by ``?assessment=`` (or the form), if the nominator may read
    it (``rule.view`` and its ``visible_to``); anything else is ignored: the nomination stands alone."""
    from apps.risk.models import Assessment

    pk = id_or_none(request.POST.get("assessment") or request.GET.get("assessment"))
    if pk is None or not can(request.user, "rule.view"):
        return None
    return Assessment.objects.visible_to(request.user).filter(pk=pk, subject=subject).first()


@login_required
@require_http_methods(["GET", "POST"])
def dispatch(request: AuthedRequest) -> HttpResponse:
    """The dispatch proposal for a port and shift: what to examine within capacity, and what is left out."""
    check(request.user, "target.view")
    port = Port.objects.filter(locode=request.GET.get("port") or request.POST.get("port") or "").first()
    shift = request.GET.get("shift") or request.POST.get("shift") or Shift.EARLY
    if shift not in Shift.values:
        shift = Shift.EARLY
    # The day of the shift: capacity comes from that day's calendar (a bad or missing date is today).
    try:
        day = parse_date(request.GET.get("date") or request.POST.get("date") or "") or timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    if request.method == "POST" and port is not None:
        here = f"{reverse('targeting:dispatch')}?port={port.locode}&shift={shift}&date={day.isoformat()}"
        try:
            if request.POST.get("do") == "accept":
                proposal = get_object_for(request.user, DispatchProposal, pk=request.POST.get("proposal"))
                choices = {
                    int(key.removeprefix("method-")): value
                    for key, value in request.POST.items()
                    if key.startswith("method-") and id_or_none(key.removeprefix("method-")) and value
                }
                # The instruction box per target: what the officer is told (prefilled with the analyst's words).
                texts = {
                    int(key.removeprefix("instruction-")): value
                    for key, value in request.POST.items()
                    if key.startswith("instruction-") and id_or_none(key.removeprefix("instruction-"))
                }
                done, problems = services.accept_proposal(
                    actor=request.user, proposal=proposal, choices=choices, instructions=texts
                )
                messages.success(request, f"{len(done)} instruction(s) sent to {port.name}.")
                for problem in problems:
                    messages.warning(request, problem)
            else:
                services.propose_dispatch(actor=request.user, port=port, shift=shift, date=day)
        except (services.StaleChange, PermissionDenied, ValidationError) as error:
            messages.error(request, _error_text(error))
        return redirect(here)
    proposal = None
    rows: list[dict[str, Any]] = []
    left_out: list[dict[str, Any]] = []
    if port is not None:
        proposal = (
            DispatchProposal.objects.visible_to(request.user).filter(port=port, shift=shift, date=day).first()
        )
    if proposal is not None:
        ids = [r["target"] for r in proposal.selected] + [r["target"] for r in proposal.left_out]
        targets = _list_queryset(request.user).in_bulk(ids)
        rows = [
            {**r, "t": targets[r["target"]], "instruction": services.default_instruction(targets[r["target"]], request.user)}
            for r in proposal.selected
            if r["target"] in targets
        ]  # fmt: skip
        left_out = [{**r, "t": targets.get(r["target"])} for r in proposal.left_out if r["target"] in targets]
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


def _when(data: Any, name: str, label: str) -> Any:
    """A date and time from a form field, or a ``ValidationError`` naming the field."""
    raw = data.get(name, "").strip()
    try:
        value = parse_datetime(raw) if raw else None
    except ValueError:
        value = None
    if value is None:
        raise ValidationError(f"Give a valid {label} date and time (field “{name}”, e.g. 2026-12-03T08:00).")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
@require_http_methods(["GET", "POST"])
def operations(request: AuthedRequest) -> HttpResponse:
    """Joint operations the viewer's agency runs or takes part in; a new one can be opened here."""
    check(request.user, "target.view")
    if request.method == "POST":
        try:
            starts, ends = (_when(request.POST, "starts_at", "start"), _when(request.POST, "ends_at", "end"))
            if not request.POST.get("name", "").strip():
                raise ValidationError("Give the operation a name.")
            agencies = Agency.objects.filter(
                pk__in=[n for v in request.POST.getlist("agencies") if (n := id_or_none(v))]
            )
            op = services.create_operation(actor=request.user, name=request.POST["name"], starts_at=starts,
                                           ends_at=ends, agencies=agencies,
                                           description=request.POST.get("description", ""))  # fmt: skip
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, _error_text(error))
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
        ref = request.POST.get("target", "").strip().upper().removeprefix("T-")
        try:
            target = get_object_for(request.user, Target, pk=id_or_none(ref) or 0)
            services.add_to_operation(actor=request.user, operation=op, target=target)
            messages.success(request, f"{target.reference} added to {op.name}.")
        except Http404:
            messages.error(request, "No such target among those you may see.")
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, _error_text(error))
        return redirect("targeting:operation", op.pk)
    now = timezone.now()
    targets = _list_queryset(request.user).filter(operation=op).with_urgency(now).order_by("-urgency")
    context = {
        "op": op,
        "targets": targets,
        "members": op.members.select_related("membership__agency"),
        "agencies": op.agencies.all(),
        "now": now,
        "can_add": can(request.user, "target.withdraw"),
    }
    return render_page_or_fragment(request, "targeting/operation.html", context)


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


@login_required
def attachment(request: AuthedRequest, pk: int) -> FileResponse:
    """Download an attachment of a comment the viewer may see."""
    check(request.user, "target.view")
    found = get_object_for(request.user, Attachment, pk=pk)
    return FileResponse(
        found.file.open("rb"), as_attachment=True, filename=found.name, content_type=found.content_type
    )
