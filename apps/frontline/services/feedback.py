"""After a result: a feedback row per rule version, watchlist entry and model behind the target, the partners told (ids only), and the counts by outcome."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Q, Sum

from apps.agencies.roles import Role
from apps.core.events import group_name, publish_many_on_commit, publish_on_commit
from apps.frontline.models import (
    ExaminationFeedback,
    ExaminationOutcome,
    ExaminationResult,
)
from apps.targeting.audience import audience_of
from apps.targeting.models import Target


def _reason_refs(target: Target) -> list[tuple[str, str]]:
    """``(kind, ref)`` of each rule version, watchlist entry and model version behind the target."""
    refs: list[tuple[str, str]] = []
    for reason in target.reasons or []:
        kind, ref = reason.get("kind"), str(reason.get("ref") or "")
        if kind in {"rule", "watchlist", "model"} and ref:
            refs.append((kind, ref))
        elif kind == "random":
            refs.append(("random", "random"))
    if target.random_control and ("random", "random") not in refs:
        refs.append(("random", "random"))
    from apps.risk.models import Hit

    for rule_id, number in (
        Hit.objects.filter(assessment__target_id=target.pk, shadow=True)
        .order_by()  # without it the default ordering's columns join the DISTINCT
        .values_list("rule_version__rule_id", "rule_version__number")
        .distinct()
    ):
        refs.append(("rule_shadow", f"rule:{rule_id}@v{number}"))
    return list(dict.fromkeys(refs))


def _feedback_for(
    result: ExaminationResult, target: Target, *, root: ExaminationResult | None = None
) -> None:
    """Write (or, for a correction, bring up to date) the feedback rows of the examination."""
    root = root or result
    seized = sum((g.estimated_value or Decimal(0)) for g in result.goods.all())
    values = {
        "target": target,
        "outcome": result.outcome,
        "finding": result.is_finding,
        "random_control": target.random_control,
        "revenue_at_stake": result.revenue_at_stake,
        "seized_value": seized,
        "examined_at": result.ended_at,
    }
    for kind, ref in _reason_refs(target):
        ExaminationFeedback.objects.update_or_create(examination=root, kind=kind, ref=ref, defaults=values)


def _tell(target: Target, result: ExaminationResult, event: str) -> None:
    """Ids only, after commit, to the target's audience: the agencies that see it, its page and its port."""
    publish_many_on_commit(
        audience_of(target), event, target=target.pk, result=result.pk, version=target.version
    )


def followers_of(target: Target, root: ExaminationResult) -> set[int]:
    """Who is told personally that a result was corrected: the analyst who nominated the target, whoever
    works it, the officer who recorded the original, and the supervisors of the owner agency."""
    from apps.agencies.models import Membership

    people = {target.nominated_by_id, target.claimed_by_id, root.recorded_by_id}
    people.update(
        Membership.objects.filter(agency_id=target.owner_agency_id, role=Role.SUPERVISOR).values_list(
            "user_id", flat=True
        )
    )
    return {pk for pk in people if pk is not None}


def _tell_followers(
    target: Target, correction: ExaminationResult, *, root: ExaminationResult, actor: User
) -> None:
    """Each follower's own group, after commit; the socket checks again that the person may see it."""
    for user_id in sorted(followers_of(target, root) - {actor.pk}):
        publish_on_commit(
            group_name("user", user_id), "examination.corrected",
            target=target.pk, result=correction.pk, version=target.version,
        )  # fmt: skip


def outcome_counts_for(kind: str, ref: str) -> dict[str, Any]:
    """Examinations and their outcomes for one rule version, watchlist entry or model version.

    ``kind`` is ``rule``, ``rule_shadow``, ``watchlist``, ``model`` or ``random``; ``ref`` as in the
    target's reasons (``rule:12@v3``); ``random`` / ``random`` gives the random-control base rate.
    Returns ``examinations``, ``findings``, one count per outcome, ``random_control`` examinations and
    findings, ``revenue_at_stake``, ``seized_value`` and ``hit_rate`` (None without examinations).
    """
    rows = ExaminationFeedback.objects.filter(kind=kind, ref=ref)
    sums = rows.aggregate(
        n=Count("pk"),
        n_findings=Count("pk", filter=Q(finding=True)),
        n_random=Count("pk", filter=Q(random_control=True)),
        n_random_findings=Count("pk", filter=Q(random_control=True, finding=True)),
        revenue=Sum("revenue_at_stake"),
        seized=Sum("seized_value"),
    )
    totals: dict[str, Any] = {
        "examinations": sums["n"],
        "findings": sums["n_findings"],
        "random_control": sums["n_random"],
        "random_findings": sums["n_random_findings"],
        "revenue_at_stake": sums["revenue"] or Decimal(0),
        "seized_value": sums["seized"] or Decimal(0),
    }
    by_outcome = dict(rows.values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))
    totals.update({o: by_outcome.get(o, 0) for o in ExaminationOutcome.values})
    n = totals["examinations"]
    totals["hit_rate"] = totals["findings"] / n if n else None
    return totals
