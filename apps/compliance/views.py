"""Oversight pages: declaring a purpose, the access log, unmasking requests, retention and chain checks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.compliance.forms import PurposeForm, UnmaskDecisionForm, UnmaskRequestForm
from apps.compliance.models import AccessLogEntry, Purpose, RetentionRun, UnmaskRequest
from apps.compliance.registry import chained_models
from apps.compliance.services import (
    LOG_SCOPES,
    access_log_for,
    decide_unmask,
    purpose_of,
    request_unmask,
    set_purpose,
)
from apps.compliance.verification import verify_chain
from apps.core.actions import cleaned
from apps.core.requests import AuthedRequest
from apps.intake.models import DataSource, Subject


def _safe_next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or fallback
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else fallback


@login_required
def purpose(request: AuthedRequest) -> HttpResponse:
    """Asked once per session, before the first access to personal data."""
    check(request.user, "reference.view")
    error = ""
    if request.method == "POST":
        try:
            data = cleaned(PurposeForm(request.POST))
            set_purpose(request, data["purpose"], data["text"])
        except ValueError as exc:
            error = str(exc)
        else:
            return redirect(_safe_next(request))
    context = {
        "purposes": Purpose.choices,
        "next": _safe_next(request),
        "error": error,
        "current": purpose_of(request),
    }
    return render(request, "compliance/purpose.html", context)


@login_required
def access_log(request: AuthedRequest) -> HttpResponse:
    user = request.GET.get("user", "").strip()
    obj = request.GET.get("object", "").strip()
    action = request.GET.get("action", "")
    scope = request.GET.get("scope", "")
    rows = access_log_for(request.user, user=user, obj=obj, action=action, scope=scope)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "user_q": user,
        "object_q": obj,
        "action": action,
        "actions": AccessLogEntry.Action.choices,
        "scope": scope if scope in LOG_SCOPES else "",
    }
    return render(request, "compliance/access_log.html", context)


@login_required
def unmask_requests(request: AuthedRequest) -> HttpResponse:
    check(request.user, "unmask.approve")
    rows = UnmaskRequest.objects.visible_to(request.user).select_related(
        "subject", "requested_by", "decided_by"
    )
    return render(request, "compliance/unmask.html", {"requests": rows[:200]})


@login_required
@require_POST
def ask_unmask(request: AuthedRequest, subject_pk: int) -> HttpResponse:
    subject = get_object_for(request.user, Subject, pk=subject_pk)
    try:
        data = cleaned(UnmaskRequestForm(request.POST))
        request_unmask(actor=request.user, subject=subject, reason=data["reason"])
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your request to see this record again waits for an authorising officer.")
    return redirect("intake:subject", pk=subject.pk)


@login_required
@require_POST
def decide(request: AuthedRequest, pk: int) -> HttpResponse:
    unmask = get_object_for(request.user, UnmaskRequest, pk=pk)
    form = UnmaskDecisionForm(request.POST)
    data = cleaned(form)
    try:
        decide_unmask(actor=request.user, unmask=unmask, approve=form.approves(), reason=data["reason"])
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("compliance:unmask")


@login_required
def oversight(request: AuthedRequest) -> HttpResponse:
    """Retention runs and the integrity of the append-only records.

    The chains span every agency, so only their state is shown, never how many rows they hold; retention
    figures are summed over the sources the viewer's agency may see, so no agency counts another's data.
    """
    check(request.user, "audit.view")
    # Incremental: from the last checkpoint anchored outside the database, so a visit costs the rows
    # written since, not the whole log (the full check runs nightly and as ``verify_chain --full``).
    chains = [(m._meta.verbose_name_plural, verify_chain(m, full=False)) for m in chained_models()]
    visible = set(DataSource.objects.visible_to(request.user).values_list("name", flat=True))
    runs = []
    for run in RetentionRun.objects.all()[:20]:
        mine = [figures for name, figures in (run.per_source or {}).items() if name in visible]
        runs.append(
            {
                "started_at": run.started_at,
                "masked": sum(f.get("masked", 0) for f in mine),
                "deleted": sum(f.get("deleted", 0) for f in mine),
                "outcomes_kept": sum(f.get("outcomes_kept", 0) for f in mine),
            }
        )
    return render(request, "compliance/oversight.html", {"runs": runs, "chains": chains})
