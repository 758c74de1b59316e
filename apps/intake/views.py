"""Pages for data sources, intake runs and subjects. Thin: services do the work and the checks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.compliance.masking import masked_facts, masked_title, subject_is_masked
from apps.compliance.services import purpose_of, record_access
from apps.core.htmx import render_page_or_fragment
from apps.intake.forms import UploadForm
from apps.intake.models import DataSource, IntakeRun, Subject, SubjectKind, SubjectLink
from apps.intake.presentation import subject_sections
from apps.intake.services import shared_with, submit_files


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    check(request.user, "source.view")
    rows = DataSource.objects.visible_to(request.user).select_related("owner_agency")
    return render(request, "intake/sources.html", {"sources": rows})


@login_required
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_for(request.user, DataSource.objects.select_related("owner_agency"), pk=pk)
    check(request.user, "source.view", source)
    is_owner = source.owner_agency_id == membership_of(request.user).agency_id
    context = {
        "source": source,
        "shared_with": shared_with(source) if is_owner else None,
        "runs": IntakeRun.objects.visible_to(request.user).filter(source=source)[:10],
        "subject_count": Subject.objects.visible_to(request.user)
        .filter(source=source, status="current")
        .count(),
    }
    return render(request, "intake/source_detail.html", context)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    check(request.user, "intake.upload")
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        files = [(f.name, f.chunks()) for f in form.cleaned_data["files"]]
        run = submit_files(
            actor=request.user,
            source=form.cleaned_data["source"],
            files=files,
            fmt=form.cleaned_data["format"],
        )
        return redirect("intake:run", pk=run.pk)
    runs = IntakeRun.objects.visible_to(request.user).select_related("source", "requested_by")[:15]
    return render(request, "intake/upload.html", {"form": form, "runs": runs})


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_for(request.user, IntakeRun.objects.select_related("source", "requested_by"), pk=pk)
    check(request.user, "source.view", run.source)
    return render_page_or_fragment(request, "intake/run.html", {"run": run}, fragment="progress")


def _needs_purpose(request: HttpRequest) -> HttpResponse | None:
    """Personal data pages ask for the purpose of access once per session, first."""
    if purpose_of(request) is None:
        return redirect(f"{reverse('compliance:purpose')}?{urlencode({'next': request.get_full_path()})}")
    return None


@login_required
def subjects(request: HttpRequest) -> HttpResponse:
    check(request.user, "subject.view")
    if (answer := _needs_purpose(request)) is not None:
        return answer
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    rows = (
        Subject.objects.visible_to(request.user)
        .filter(status=Subject.Status.CURRENT)
        .select_related("source", "port")
    )
    if kind in SubjectKind.values:
        rows = rows.filter(kind=kind)
    if query:
        rows = rows.filter(Q(title__icontains=query) | Q(external_id__icontains=query))
    page = Paginator(rows.order_by("-received_at", "-id"), 50).get_page(request.GET.get("page"))
    for subject in page:
        if subject_is_masked(request.user, subject):
            subject.title = masked_title(subject)
    if query:
        record_access(
            request=request,
            action="search",
            object_type="subject",
            summary=f"searched {query!r} ({kind or 'all kinds'})",
        )
    context = {"page": page, "query": query, "kind": kind, "kinds": SubjectKind.choices}
    return render_page_or_fragment(request, "intake/subjects.html", context, fragment="results")


@login_required
def subject_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_for(
        request.user, Subject.objects.select_related("source", "port", "owner_agency"), pk=pk
    )
    check(request.user, "subject.view", subject)
    if (answer := _needs_purpose(request)) is not None:
        return answer
    masked = subject_is_masked(request.user, subject)
    record_access(
        request=request,
        action="view",
        object_type=f"subject:{subject.kind}",
        object_id=subject.pk,
        summary=f"{subject.get_kind_display()} page{' (depersonalised)' if masked else ''}",
    )
    if masked:
        subject.facts = masked_facts(subject.facts)
        subject.title = masked_title(subject)
    visible = Subject.objects.visible_to(request.user)
    history = visible.filter(source=subject.source, external_id=subject.external_id).order_by("-version")
    links = [
        (link.get_kind_display(), link.reason, link.to_subject)
        for link in SubjectLink.objects.filter(from_subject=subject, to_subject__in=visible).select_related(
            "to_subject"
        )
    ] + [
        (link.get_kind_display(), link.reason, link.from_subject)
        for link in SubjectLink.objects.filter(to_subject=subject, from_subject__in=visible).select_related(
            "from_subject"
        )
    ]
    context = {
        "subject": subject,
        "sections": subject_sections(subject),
        "history": history,
        "links": links,
        "outcomes": subject.outcomes.all()[:20],
        "masked": masked,
        "pending_unmask": masked
        and subject.unmask_requests.filter(requested_by=request.user, status="pending").exists(),
    }
    return render(request, "intake/subject_detail.html", context)
