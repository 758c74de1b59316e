"""Pages of the risk engine: rules, the editor, the lab, backtests and assessments. Logic is in services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.agencies.models import Port
from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.compliance.gate import note_results
from apps.compliance.masking import masked_title, subject_is_masked
from apps.core.actions import acting, cleaned
from apps.core.errors import form_status
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.intake.models import SubjectKind
from apps.risk import assessments as listing
from apps.risk import backtest as lab
from apps.risk import services
from apps.risk.conditions import ConditionError, parse
from apps.risk.fields import CATALOGUE
from apps.risk.forms import BacktestForm, ParseForm, RuleForm, RuleMoveForm
from apps.risk.models import Backtest, RuleState, risk_area_choices
from apps.risk.random_control import told_of_assessment_draw


def _errors_to_form(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def rules(request: AuthedRequest) -> HttpResponse:
    """All rules the user may see, filtered by state, kind, risk area and name."""
    queryset = services.visible_rules(request.user).annotate(
        hit_count=Count("hits", filter=Q(hits__shadow=False)),
        shadow_count=Count("hits", filter=Q(hits__shadow=True)),
    )
    filters = {k: request.GET.get(k, "").strip() for k in ("state", "kind", "area", "q")}
    if filters["state"]:
        queryset = queryset.filter(state=filters["state"])
    if filters["kind"]:
        queryset = queryset.filter(versions__subject_kind=filters["kind"]).distinct()
    if filters["area"]:
        queryset = queryset.filter(versions__risk_area=filters["area"]).distinct()
    if filters["q"]:
        queryset = queryset.filter(name__icontains=filters["q"])
    counts = dict(
        services.visible_rules(request.user)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    context = {
        "rules": queryset.order_by("name", "pk")[:500],
        "filters": filters,
        "states": RuleState.choices,
        "kinds": SubjectKind.choices,
        "areas": risk_area_choices(),
        "state_counts": [(value, label, counts.get(value, 0)) for value, label in RuleState.choices],
        "may_edit": can(request.user, "rule.edit"),
    }
    return render_page_or_fragment(request, "risk/rules.html", context, fragment="rows")


def _editor_context(request: AuthedRequest, form: RuleForm, rule: Any = None) -> dict[str, Any]:
    return {
        "form": form,
        "rule": rule,
        "catalogue": CATALOGUE,
        "may_edit": can(request.user, "rule.edit")
        and (rule is None or rule.owner_agency_id == membership_of(request.user).agency_id),
    }


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: AuthedRequest) -> HttpResponse:
    """Write a new rule (a draft)."""
    check(request.user, "rule.edit")
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            rule = services.create_rule(actor=request.user, **data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Rule “{rule.name}” saved as a draft.")
            return redirect("risk:rule", pk=rule.pk)
    return render(
        request, "risk/editor.html", _editor_context(request, form), status=form_status(request, form)
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a rule: saving makes a new version. Those who may only view see the editor read-only."""
    rule = services.get_rule_for(request.user, pk)
    latest = rule.latest
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                services.update_rule(actor=request.user, rule=rule, **form.service_data())
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, f"Saved as version {rule.latest_number}.")
                return redirect("risk:rule", pk=rule.pk)
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule, latest))
    return render(
        request, "risk/editor.html", _editor_context(request, form, rule), status=form_status(request, form)
    )


@login_required
@require_POST
def parse_preview(request: AuthedRequest) -> HttpResponse:
    """Live feedback while a condition is typed: the parsed structure, or where the error is."""
    check(request.user, "rule.view")
    form = ParseForm(request.POST)
    form.is_valid()  # text fields only: the parser says what is wrong with them
    text, kind = form.cleaned_data["text"], form.cleaned_data["subject_kind"] or "consignment"
    context: dict[str, Any] = {"text": text}
    if kind not in CATALOGUE:
        context["error"] = ConditionError("choose the kind of subject first")
    elif text.strip():
        try:
            context["tree"] = parse(text, kind)
        except ConditionError as error:
            context["error"] = error
            if error.column:
                line = text.replace("\n", " ")
                context["before"], context["at"] = line[: error.column - 1], line[error.column - 1 :]
    return render(request, "risk/editor.html#parse-result", context)


def _back_to_rule(request: HttpRequest, pk: int) -> str:
    return reverse("risk:rule", args=[pk])


def rule_move(action: str) -> Callable[..., HttpResponseBase]:
    """The view of one lifecycle button of a rule (``services.TRANSITIONS``: shadow, activate, retire),
    at its own URL; a refusal comes back as a message on the rule's page."""

    @login_required
    @require_POST
    @acting(_back_to_rule)
    def view(request: AuthedRequest, pk: int) -> str:
        rule = services.get_rule_for(request.user, pk)
        data = cleaned(RuleMoveForm(request.POST))
        services.TRANSITIONS[action](actor=request.user, rule=rule, reason=data["reason"])
        return f"The rule is now {rule.get_state_display().lower()}."

    view.__name__ = view.__qualname__ = f"rule_{action}"
    return view


@login_required
def rule_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A rule with its versions, hit counts, lifecycle and backtests (each lifecycle button posts to
    ``rule_move``'s URL)."""
    rule = services.get_rule_for(request.user, pk)
    from apps.targeting import flow  # the floor sits above the engine: its links are read, not imported

    counts = services.rule_hit_counts(rule)
    hits = list(services.recent_hits(rule, request.user))
    versions = list(rule.versions.select_related("created_by"))
    owner = rule.owner_agency_id == membership_of(request.user).agency_id
    context = {
        "rule": rule,
        "latest": versions[0] if versions else None,
        "versions": versions,
        "versions_with_counts": [(v, counts.get(v.pk, {"hits": 0, "shadow": 0})) for v in versions],
        "transitions": rule.transitions.select_related("actor", "version")[:50],
        "hits": hits,
        # The targets that came of the rule, and each hit's live target or a nominate button (one read).
        "flow_open_targets": flow.open_targets_by_subject(
            request.user, (h.assessment.subject_id for h in hits)
        ),
        "targets": flow.targets_of_rule(request.user, rule),
        "backtests": rule.backtests.select_related("version", "compare_version")[:10],
        "may_edit": owner and can(request.user, "rule.edit") and rule.state != RuleState.RETIRED,
        "may_publish": owner and can(request.user, "rule.publish"),
        "may_backtest": can(request.user, "rule.backtest"),
    }
    return render(request, "risk/rule.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_lab(request: AuthedRequest) -> HttpResponse:
    """Start a backtest and see the recent ones."""
    check(request.user, "rule.backtest")
    visible = services.visible_rules(request.user).exclude(state=RuleState.RETIRED)
    form = BacktestForm(request.POST or None, rules=visible, initial={"rule": request.GET.get("rule")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        compare = data["compare_rule"].live_version if data["compare_rule"] else None
        try:
            backtest = lab.start_backtest(actor=request.user, rule=data["rule"], period_start=data["period_start"],
                                          period_end=data["period_end"], compare_version=compare)  # fmt: skip
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            return redirect("risk:backtest", pk=backtest.pk)
    backtests = Backtest.objects.visible_to(request.user).select_related("rule", "version", "compare_version")
    context = {"form": form, "backtests": backtests[:25]}
    return render(request, "risk/lab.html", context, status=form_status(request, form))


@login_required
def backtest_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A backtest's progress (polled by htmx while it runs) and then its results."""
    backtest = get_object_for(
        request.user, Backtest.objects.select_related("rule", "version", "compare_version__rule"), pk=pk,
        operation="rule.view",
    )  # fmt: skip
    results = backtest.results or {}
    ports = sorted(
        set((results.get("tested") or {}).get("by_port", {}))
        | set((results.get("compared") or {}).get("by_port", {}))
    )
    days = sorted(
        set((results.get("tested") or {}).get("by_day", {}))
        | set((results.get("compared") or {}).get("by_day", {}))
    )
    peak = max([*((results.get("tested") or {}).get("by_day", {}).values()),
                *((results.get("compared") or {}).get("by_day", {}).values()), 1])  # fmt: skip
    context = {"backtest": backtest, "results": results, "ports": ports, "days": days, "peak": peak}
    return render_page_or_fragment(request, "risk/backtest.html", context, fragment="progress")


@login_required
def assessment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """An assessment that explains itself: the components by kind and how the score was made."""
    assessment = services.get_assessment_for(request.user, pk)
    explanation = services.explanation_for(request.user, assessment)
    components = explanation.get("components", [])
    groups = [
        (kind, title, [c for c in components if c["kind"] == kind])
        for kind, title in (("rule", "Rules"), ("watchlist", "Watchlist entries"), ("model", "Model"))
    ]
    subject = assessment.subject
    if subject_is_masked(request.user, subject):  # shown as the law says: depersonalised, masked
        subject.title = masked_title(subject)
    from apps.targeting import flow  # the floor sits above the engine: its links are read, not imported
    from apps.targeting.models import FINAL_STATES

    targets = flow.subject_targets(request.user, [subject.pk]).get(subject.pk, [])
    context = {
        "assessment": assessment,
        "subject": subject,
        # Forward: the targets nominated from this assessment that the viewer may see.
        "targets": flow.came_of(assessment, targets),
        # A live one of them is the subject's target: no second nomination offered beside it.
        "live_target": any(t.state not in FINAL_STATES for t in flow.came_of(assessment, targets)),
        "may_open_subject": can(request.user, "subject.view"),
        "explanation": explanation,
        "random_control": told_of_assessment_draw(request.user, assessment),
        "groups": groups,
        "others": [c for c in components if c["kind"] not in {"rule", "watchlist", "model"}],
        "hits": assessment.hits.select_related("rule", "rule_version"),
    }
    return render(request, "risk/assessment.html", context)


@login_required
def assessments(request: AuthedRequest) -> HttpResponse:
    """Every assessment the viewer may see, filtered by date, risk area, score band, rule, target and
    port; each row links to the assessment, its subject and its targets. Gated in ``urls.py`` (a
    traveller is listed by name): purpose declared, the list logged with its count."""
    from apps.targeting import flow  # the floor sits above the engine: its links are read, not imported
    from apps.targeting.models import FINAL_STATES

    filters = listing.read_filters(request.user, request.GET)
    page = listing.page_of(
        listing.filter_assessments(request.user, filters), request.GET.get("page"), listing.PAGE_SIZE
    )
    by_subject = flow.subject_targets(request.user, (a.subject_id for a in page.rows))
    rows = []
    for a in page.rows:
        subject = a.subject
        theirs = by_subject.get(subject.pk, [])
        came = flow.came_of(a, theirs)
        rows.append(
            {
                "a": a,
                "subject": subject,
                "title": masked_title(subject) if subject_is_masked(request.user, subject) else subject.title,
                # The targets that came of it first, then any other on the subject (what "targeted" means).
                "targets": (came + [t for t in theirs if t not in came])[:3],
                "live": any(t.state not in FINAL_STATES for t in theirs),
                "random_control": told_of_assessment_draw(request.user, a),
            }
        )
    note_results(request, len(rows))
    query = filters.as_query()
    context = {
        "rows": rows,
        "page": page,
        "filters": filters,
        "query": urlencode(query),
        "areas": risk_area_choices(),
        "bands": listing.BANDS,
        "rules": services.visible_rules(request.user).order_by("name", "pk"),
        "ports": Port.objects.visible_to(request.user),
        "may_open_subject": can(request.user, "subject.view"),
        "flow_open_targets": flow.open_targets_by_subject(request.user, (a.subject_id for a in page.rows)),
    }
    return render_page_or_fragment(request, "risk/assessments.html", context, fragment="results")
