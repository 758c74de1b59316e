# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""Report pages: thin views over ``measures``, ``effectiveness`` and ``services``.

Every figure is counted through ``visible_to`` in those modules. Exports and the PDF are figures only
(no personal data), so they need ``report.export`` but no stated purpose.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.errors import BadInput, form_status
from apps.core.requests import AuthedRequest
from apps.reports import exports
from apps.reports.charts import currency
from apps.reports.definitions import LEDGER_TERMS
from apps.reports.effectiveness import ledger, rule_ledger
from apps.reports.forms import ReviewForm, SliceForm, SubscriptionForm
from apps.reports.measures import MEASURES
from apps.reports.models import ReportSubscription, RuleReview
from apps.reports.pdf import render_pdf
from apps.reports.services import (
    TABLES,
    build_report,
    cached_report,
    forget_reports,
    ledger_strata_table,
    ledger_table,
    lift_chart,
    pnr_table,
    random_missed_table,
    table,
)
from apps.reports.slicing import Slice, optional_model
from apps.reports.stats import last_refresh, refresh_daily_stats


def _slice(request: HttpRequest, *, strict: bool = False) -> tuple[SliceForm, Slice]:
    """The slice asked for. A page shows a bad field's error (and answers 400) over the fallback
    period; ``strict`` callers (exports, the PDF) refuse it instead of delivering another period."""
    form = SliceForm(request.GET or None, user=request.user)
    s = form.to_slice()
    if strict and form.errors:
        field, errors = next(iter(form.errors.items()))
        raise BadInput(field, str(errors[0]))
    return form, s


def _context(request: HttpRequest, form: SliceForm, s: Slice, **extra: Any) -> dict[str, Any]:
    query = urlencode(s.query())
    previous = s.previous()
    return {
        "form": form,
        "slice": s,
        "query": query,
        "previous": previous,
        "measures": MEASURES.values(),
        "tables": TABLES,
        "can_export": can(request.user, "report.export"),
        "refresh": last_refresh(),
        "currency": currency(),
        **extra,
    }


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """The main report: headline figures against the previous period, charts and tables."""
    check(request.user, "report.view")
    form, s = _slice(request)
    report = cached_report(request.user, s)
    context = _context(request, form, s, report=report)
    return render(request, "reports/home.html", context, status=form_status(request, form))


@login_required
@require_POST
def refresh(request: AuthedRequest) -> HttpResponse:
    """Rebuild the summary table for the period asked (on demand), then show the report again."""
    check(request.user, "report.view")
    form = SliceForm(request.POST, user=request.user)
    s = form.to_slice()
    if form.errors:
        field, errors = next(iter(form.errors.items()))
        raise BadInput(field, str(errors[0]))
    done = refresh_daily_stats(s.start, s.end, requested_by=request.user)
    forget_reports()
    messages.success(
        request, f"Figures refreshed for {s.start:%d %b} – {s.end:%d %b %Y} ({done.seconds:.1f} s)."
    )
    return redirect(f"{reverse('reports:home')}?{urlencode(s.query())}")


@login_required
def effectiveness(request: AuthedRequest) -> HttpResponse:
    """The effectiveness ledger of rules, watchlists and model versions, with lift and review flags."""
    check(request.user, "report.view")
    form, s = _slice(request)
    book = ledger(request.user, s)
    book_table = ledger_table(request.user, s, book)
    return render(
        request,
        "reports/effectiveness.html",
        _context(
            request,
            form,
            s,
            book=book,
            book_table=book_table,
            strata_table=ledger_strata_table(request.user, s, book),
            missed_table=random_missed_table(request.user, s, book),
            terms=LEDGER_TERMS,
            chart=lift_chart(book_table),
        ),
        status=form_status(request, form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One rule's ledger by version, its reviews, and the form to record this year's review."""
    rule_model = optional_model("risk", "Rule")
    if rule_model is None:
        raise Http404("Not found.")
    rule = get_object_for(
        request.user, rule_model.objects.select_related("owner_agency"), pk=pk, operation="rule.view"
    )
    form, s = _slice(request)
    may_review = (
        can(request.user, "rule.edit") and membership_of(request.user).agency_id == rule.owner_agency_id
    )
    rows = rule_ledger(request.user, s, rule.pk)
    review_form = ReviewForm(initial={"reviewed_on": timezone.now().astimezone(UTC).date()})
    if request.method == "POST":
        check(request.user, "rule.edit", rule)
        if not may_review:
            raise PermissionDenied("Only the rule's owner agency reviews it.")
        review_form = ReviewForm(request.POST)
        if review_form.is_valid():
            RuleReview.objects.create(
                rule=rule,
                reviewer=request.user,
                **review_form.cleaned_data,
                figures={"period": s.describe(), "versions": [r.as_dict() for r in rows]},
            )
            messages.success(request, f"Review of “{rule.name}” recorded.")
            return redirect(f"{reverse('reports:rule', args=[rule.pk])}?{urlencode(s.query())}")
    reviews = RuleReview.objects.visible_to(request.user).filter(rule=rule).select_related("reviewer")
    return render(
        request,
        "reports/rule.html",
        _context(
            request,
            form,
            s,
            rule=rule,
            rows=rows,
            reviews=reviews,
            review_form=review_form,
            may_review=may_review,
        ),
        status=form_status(request, form, review_form),
    )


@login_required
def statistics(request: AuthedRequest) -> HttpResponse:
    """The PNR directive's aggregate statistics: passengers received and referred, per month."""
    check(request.user, "report.view")
    form, s = _slice(request)
    context = _context(request, form, s, pnr=pnr_table(request.user, s))
    return render(request, "reports/statistics.html", context, status=form_status(request, form))


@login_required
def export(request: AuthedRequest) -> HttpResponse:
    """A report table as CSV or XLSX (``?table=…&format=csv|xlsx`` plus the slice)."""
    check(request.user, "report.export")
    name, kind = request.GET.get("table", "summary"), request.GET.get("format", "csv")
    if name not in TABLES or kind not in {"csv", "xlsx"}:
        raise Http404("No such table or format.")
    _, s = _slice(request, strict=True)
    data = table(request.user, s, name)
    filename = f"ratc-{name}-{s.start:%Y%m%d}-{s.end:%Y%m%d}.{kind}"
    if kind == "csv":
        response = HttpResponse(exports.to_csv(data, s), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.to_xlsx(data, s),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def pdf(request: AuthedRequest) -> HttpResponse:
    """The PDF report of the slice, with its charts."""
    check(request.user, "report.export")
    _, s = _slice(request, strict=True)
    body = render_pdf(
        build_report(request.user, s), [ledger_table(request.user, s)], who=request.user.username
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="ratc-report-{s.start:%Y%m%d}-{s.end:%Y%m%d}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def subscriptions(request: AuthedRequest) -> HttpResponse:
    """Who of the agency receives the weekly report by e-mail; add or stop a subscription."""
    check(request.user, "report.export")
    form = SubscriptionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        ReportSubscription.objects.update_or_create(
            user=form.cleaned_data["user"], defaults={"active": True, "port": form.cleaned_data["port"]}
        )
        messages.success(request, f"{form.cleaned_data['user'].username} will receive the weekly report.")
        return redirect("reports:subscriptions")
    current = ReportSubscription.objects.visible_to(request.user).select_related("user", "port")
    context = {"form": form, "subscriptions": current}
    return render(request, "reports/subscriptions.html", context, status=form_status(request, form))


@login_required
@require_POST
def stop_subscription(request: AuthedRequest, pk: int) -> HttpResponse:
    """Stop one subscription of the agency (its own URL; another agency's answers as a missing one)."""
    # Found in the person's scope first: another agency's subscription is missing, not forbidden.
    found = get_object_for(request.user, ReportSubscription, pk=pk)
    check(request.user, "report.export")
    found.delete()
    messages.success(request, "Subscription stopped.")
    return redirect("reports:subscriptions")
