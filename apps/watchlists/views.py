"""Watchlist pages. Thin: the services check who may do what and do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.htmx import render_page_or_fragment
from apps.watchlists import services
from apps.watchlists.forms import EntryControlForm, ImportForm, ScreenForm, WatchlistForm
from apps.watchlists.models import EntryKind, ImportRun
from apps.watchlists.screening import screen_name_for


def _may_manage(request: HttpRequest, watchlist) -> bool:
    membership = membership_of(request.user)
    return (
        can(request.user, "watchlist.manage")
        and membership is not None
        and membership.agency_id == watchlist.owner_agency_id
    )


@login_required
def watchlists(request: HttpRequest) -> HttpResponse:
    check(request.user, "watchlist.view")
    form = WatchlistForm(request.POST or None) if can(request.user, "watchlist.manage") else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Your role may not create watchlists.")
        if form.is_valid():
            created = services.create_watchlist(actor=request.user, **form.cleaned_data)
            return redirect("watchlists:detail", pk=created.pk)
    context = {"rows": services.list_summaries(request.user), "form": form}
    return render(request, "watchlists/list.html", context)


@login_required
def watchlist_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
    }
    return render_page_or_fragment(request, "watchlists/detail.html", context, fragment="results")


@login_required
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
    return render(request, "watchlists/entry.html", {"entry": entry, "form": form, "manage": manage})


@login_required
def import_form(request: HttpRequest, pk: int) -> HttpResponse:
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
    )


@login_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_for(request.user, ImportRun.objects.select_related("watchlist", "requested_by"), pk=pk)
    check(request.user, "watchlist.view", run.watchlist)
    return render_page_or_fragment(request, "watchlists/run.html", {"run": run}, fragment="progress")


@login_required
def screen(request: HttpRequest) -> HttpResponse:
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
