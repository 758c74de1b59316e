"""Reading the engine's work: rules, their hits and assessments, as the actor may see them."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat

from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.risk.models import Assessment, Hit, Rule
from apps.risk.random_control import told_of_assessment_draw


def visible_rules(actor: User) -> QuerySet[Rule]:
    """Rules the actor may see (own agency's, and any granted), for lists and choices."""
    check(actor, "rule.view")
    return Rule.objects.visible_to(actor).select_related("live_version", "owner_agency")


def get_rule_for(actor: User, pk: Any, *, operation: str = "rule.view") -> Rule:
    """The rule if the actor may see it (else 404) and perform ``operation`` on it (else 403)."""
    return get_object_for(
        actor, Rule.objects.select_related("live_version", "owner_agency"), pk=pk, operation=operation
    )


def rule_hit_counts(rule: Rule) -> dict[int, dict[str, int]]:
    """Version id → {"hits": n, "shadow": n} for one rule."""
    rows = (
        Hit.objects.filter(rule=rule)
        .values("rule_version_id")
        .annotate(hits=Count("pk", filter=Q(shadow=False)), shadow=Count("pk", filter=Q(shadow=True)))
    )
    return {r["rule_version_id"]: {"hits": r["hits"], "shadow": r["shadow"]} for r in rows}


def get_assessment_for(actor: User, pk: Any) -> Assessment:
    """An assessment if the actor may see its subject (else 404) and rules (``rule.view``)."""
    return get_object_for(
        actor, Assessment.objects.select_related("subject", "subject__port"), pk=pk, operation="rule.view"
    )


def recent_hits(rule: Rule, actor: User, limit: int = 20) -> QuerySet[Hit]:
    """The latest hits of a rule on subjects the actor may see.

    ``subject_title`` names a consignment, conveyance or trader; a traveller is named by kind and
    reference only (the rule page is no view of personal data: the assessment it links to is, gated).
    """
    # ``visible_to`` is typed as any model's queryset: these rows are Hits.
    visible = cast("QuerySet[Hit]", Hit.objects.visible_to(actor))
    return (
        visible.filter(rule=rule)
        .select_related("rule_version", "assessment__subject")
        .annotate(
            subject_title=Case(
                When(
                    assessment__subject__kind="traveller",
                    then=Concat(Value("Traveller #"), Cast("assessment__subject_id", CharField())),
                ),
                default=F("assessment__subject__title"),
                output_field=CharField(),
            )
        )[:limit]
    )


def explanation_for(user: Any, assessment: Assessment) -> dict[str, Any]:
    """The assessment's explanation as ``user`` may see it: matches on watchlists the user's agency may
    not see are left out, and the random draw is told only to whom ``told_of_assessment_draw`` tells
    (every page and the API draw explanations through this)."""
    from apps.compliance.masking import masked_explanation, subject_is_masked
    from apps.watchlists.screening import visible_components

    explanation = dict(assessment.explanation or {})
    if not told_of_assessment_draw(user, assessment):
        # The draw and the share say whether it was drawn (draw < share): neither is shown.
        explanation.pop("random_control", None)
    for key in ("components", "shadow"):
        if key in explanation:
            explanation[key] = visible_components(user, explanation[key])
    # A depersonalised traveller's explanation shows what was screened and matched of him masked.
    if subject_is_masked(user, assessment.subject):
        explanation = masked_explanation(explanation)
    return explanation
