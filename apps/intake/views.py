"""Pages for data sources, intake runs and subjects. Thin: services do the work and the checks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render

from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.compliance.gate import note_results
from apps.compliance.masking import masked_subjects_q, masked_title, subject_is_masked
from apps.core.errors import form_status
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.intake.forms import UploadForm
from apps.intake.identity import log_merged_reads, person_view
from apps.intake.models import DataSource, IntakeRun, Subject, SubjectKind
from apps.intake.services import shared_with, submit_files


@login_required
def sources(request: AuthedRequest) -> HttpResponse:
    check(request.user, "source.view")
    rows = DataSource.objects.visible_to(request.user).select_related("owner_agency")
    return render(request, "intake/sources.html", {"sources": rows})


@login_required
def source_detail(request: AuthedRequest, pk: int) -> HttpResponse:
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
def upload(request: AuthedRequest) -> HttpResponse:
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
    context = {"form": form, "runs": runs}
    return render(request, "intake/upload.html", context, status=form_status(request, form))


@login_required
def run_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    run = get_object_for(request.user, IntakeRun.objects.select_related("source", "requested_by"), pk=pk)
    check(request.user, "source.view", run.source)
    return render_page_or_fragment(request, "intake/run.html", {"run": run}, fragment="progress")


@login_required
def subjects(request: AuthedRequest) -> HttpResponse:
    """The subject search. Gated in ``urls.py`` (purpose, one access-log entry with the query and count);
    a depersonalised traveller is listed masked and never found by the fields that were masked."""
    check(request.user, "subject.view")
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
        # The title and the external id hold a traveller's name, booking and document: a masked one
        # must not be found by them (the match itself would re-identify him).
        rows = rows.filter(Q(title__icontains=query) | Q(external_id__icontains=query)).exclude(
            masked_subjects_q(request.user)
        )
    page = Paginator(rows.order_by("-received_at", "-id"), 50).get_page(request.GET.get("page"))
    for subject in page:
        if subject_is_masked(request.user, subject):
            subject.title = masked_title(subject)
    note_results(request, len(page.object_list))
    context = {"page": page, "query": query, "kind": kind, "kinds": SubjectKind.choices}
    return render_page_or_fragment(request, "intake/subjects.html", context, fragment="results")


@login_required
def subject_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The page of the person (or trader) this record belongs to: every record of it the viewer may see,
    merged (``apps.intake.identity``). Each record's URL renders the same page, marking that record."""
    subject = get_object_for(
        request.user, Subject.objects.select_related("source", "message", "port", "owner_agency"), pk=pk
    )
    check(request.user, "subject.view", subject)
    # Purpose and the access log of the opened record: the gate in ``urls.py``; the other records merged
    # into the page are logged here.
    person = person_view(request.user, subject)
    log_merged_reads(request, person)
    return render(request, "intake/subject_detail.html", {"person": person})
