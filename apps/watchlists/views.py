"""Watchlist pages. Thin: the services check who may do what and do the work."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.actions import cleaned
from apps.core.errors import form_status
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.watchlists import services
from apps.watchlists.forms import EntryControlForm, ImportForm, RulingForm, ScreenForm, WatchlistForm
from apps.watchlists.models import EntryKind, ImportRun, MatchRuling
from apps.watchlists.screening import screen_name_for


def _may_manage(request: HttpRequest, watchlist) -> bool:
    membership = membership_of(request.user)
    return (
        can(request.user, "watchlist.manage")
        and membership is not None
        and membership.agency_id == watchlist.owner_agency_id
    )


@login_required
def watchlists(request: AuthedRequest) -> HttpResponse:
    check(request.user, "watchlist.view")
    form = WatchlistForm(request.POST or None) if can(request.user, "watchlist.manage") else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Your role may not create watchlists.")
        if form.is_valid():
            created = services.create_watchlist(actor=request.user, **form.cleaned_data)
            return redirect("watchlists:detail", pk=created.pk)
    context = {"rows": services.list_summaries(request.user), "form": form}
    return render(request, "watchlists/list.html", context, status=form_status(request, form))


@login_required
def watchlist_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    watchlist = services.get_watchlist_for(request.user, pk)
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    inactive = request.GET.get("inactive") == "1"
    rows = services.search_entries(request.user, watchlist, query=query, kind=kind, show_inactive=inactive)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    manage = _may_manage(request, watchlist)
    context = {
        "watchlist": watchlist,
        "page": page,
        "query": query,
        "kind": kind,
        "inactive": inactive,
        "kinds": EntryKind.choices,
        "manage": manage,
        "shared_with": services.shared_with(watchlist) if manage else None,
        "runs": watchlist.imports.select_related("requested_by")[:5],
        "precision": services.precision_by_list(request.user, [watchlist.pk]).get(watchlist.pk),
    }
    return render_page_or_fragment(request, "watchlists/detail.html", context, fragment="results")


@login_required
def entry_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = services.get_entry_for(request.user, pk)
    manage = _may_manage(request, entry.watchlist)
    form = None
    if manage:
        initial = {
            "handling_code": entry.handling_code,
            "expires_on": entry.expires_on,
            "active": entry.active,
        }
        form = EntryControlForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            services.update_entry(actor=request.user, entry=entry, data=form.cleaned_data)
            messages.success(request, "Entry updated; screening uses the change from now on.")
            return redirect("watchlists:entry", pk=entry.pk)
    elif request.method == "POST":
        raise PermissionDenied("Only the owner agency's risk managers and liaison officers change entries.")
    context = {"entry": entry, "form": form, "manage": manage}
    return render(request, "watchlists/entry.html", context, status=form_status(request, form))


@login_required
def import_form(request: AuthedRequest, pk: int) -> HttpResponse:
    watchlist = services.get_watchlist_for(request.user, pk)
    manage = _may_manage(request, watchlist)
    form = ImportForm(request.POST or None, request.FILES or None) if manage else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only the owner agency's risk managers and liaison officers import.")
        if form.is_valid():
            files = [(f.name, f.chunks()) for f in form.cleaned_data["files"]]
            try:
                run = services.submit_import(
                    actor=request.user,
                    watchlist=watchlist,
                    fmt=form.cleaned_data["format"],
                    files=files,
                    deactivate_missing=form.cleaned_data["deactivate_missing"],
                )
            except ValidationError as exc:
                form.add_error("files", exc.messages[0])
            else:
                return redirect("watchlists:import_run", pk=run.pk)
    runs = watchlist.imports.select_related("requested_by")[:15]
    return render(
        request,
        "watchlists/import.html",
        {"watchlist": watchlist, "form": form, "runs": runs, "manage": manage},
        status=form_status(request, form),
    )


@login_required
def import_run(request: AuthedRequest, pk: int) -> HttpResponse:
    run = get_object_for(request.user, ImportRun.objects.select_related("watchlist", "requested_by"), pk=pk)
    check(request.user, "watchlist.view", run.watchlist)
    return render_page_or_fragment(request, "watchlists/run.html", {"run": run}, fragment="progress")


@login_required
def screen(request: AuthedRequest) -> HttpResponse:
    check(request.user, "watchlist.view")
    form = ScreenForm(request.GET or None)
    hits = None
    if form.is_valid():
        data = form.cleaned_data
        hits = screen_name_for(
            request.user,
            data["name"],
            date_of_birth=data["date_of_birth"] or None,
            nationality=data["nationality"] or None,
            document=data["document"] or None,
            kind=data["kind"] or None,
            limit=10,
        )
    return render_page_or_fragment(
        request, "watchlists/screen.html", {"form": form, "hits": hits}, fragment="hits"
    )


# --- hits ruled by a person --------------------------------------------------------------------------------

#: Subject facts shown beside the list entry, by kind: what a person compares to rule a match.
COMPARED_FACTS = {
    "traveller": ("full_name", "surname", "given_names", "date_of_birth", "nationality", "document_number"),
    "consignment": ("consignor_name", "consignee_name", "importer_name", "exporter_name", "declarant_name"),
    "trader": ("name", "eori", "country"),
    "conveyance": ("vessel_name", "vessel_imo", "flag"),
}


def _subject_side(request: HttpRequest, subject) -> dict:
    """What of the subject is compared: masked when depersonalised, and every traveller's view logged."""
    from apps.compliance.masking import masked_facts, masked_title, subject_is_masked
    from apps.compliance.services import record_access

    masked = subject_is_masked(request.user, subject)
    facts = masked_facts(subject.facts or {}) if masked else (subject.facts or {})
    if subject.kind == "traveller":
        record_access(
            request=request,
            action="view",
            object_type=f"subject:{subject.kind}",
            object_id=subject.pk,
            summary=f"watchlist hit to rule{' (depersonalised)' if masked else ''}",
            obj=subject,
        )
    shown = [
        (key.replace("_", " "), facts[key]) for key in COMPARED_FACTS.get(subject.kind, ()) if facts.get(key)
    ]
    return {"title": masked_title(subject) if masked else subject.title, "facts": shown, "masked": masked}


@login_required
def hits(request: AuthedRequest) -> HttpResponse:
    """The hits waiting for a person's ruling: the subject and the list entry side by side.

    The gate in ``urls.py`` asks for the purpose and logs the list; each traveller shown is logged too,
    so that the data owner's officer sees whose record was compared."""
    check(request.user, "hit.rule")
    page = Paginator(services.pending_hits(request.user), 20).get_page(request.GET.get("page"))
    rows = [{"hit": hit, "subject": _subject_side(request, hit.subject)} for hit in page]
    context = {"page": page, "rows": rows, "rulings": MatchRuling.choices}
    return render(request, "watchlists/hits.html", context)


@login_required
@require_POST
def rule_hit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Rule one hit; htmx swaps the ruling form for the ruling (or for the form with its error)."""
    hit = services.get_hit_for(request.user, pk)
    data = cleaned(RulingForm(request.POST))  # text only: always valid
    context: dict[str, Any] = {"hit": hit, "rulings": MatchRuling.choices, "reason": data["reason"]}
    try:
        ruled = services.rule_hit(actor=request.user, hit=hit, ruling=data["ruling"], reason=data["reason"])
    except ValidationError as exc:
        errors = [m for messages_ in exc.message_dict.values() for m in messages_]
        context["errors"] = errors
        if not getattr(request, "htmx", None):
            for message in errors:
                messages.error(request, message)
            return redirect("watchlists:hits")
        return render(request, "watchlists/hits.html#ruling", context)
    context["ruled"] = ruled
    if getattr(request, "htmx", None):
        return render(request, "watchlists/hits.html#ruling", context)
    messages.success(request, f"Hit #{hit.pk} ruled: {ruled.get_ruling_display().lower()}.")
    return redirect("watchlists:hits")
