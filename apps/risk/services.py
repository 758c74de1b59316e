"""Services of the risk engine: writing rules, moving them through their lifecycle, assessing subjects.

Every function that acts for a person takes ``actor`` and checks a named operation first
(``rule.view``, ``rule.edit``, ``rule.publish``); pages, the API and tasks all call these. The engine's
own work (:func:`assess_subjects`) runs without a person: intake calls it after commit, through the
Celery task in :mod:`apps.risk.tasks`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat

from apps.agencies.models import Port
from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.events import group_name, publish_on_commit
from apps.intake.models import Subject, SubjectKind
from apps.risk.conditions import ConditionError, parse, to_text, validate
from apps.risk.models import Assessment, Hit, RiskSettings, Rule, RuleState, RuleTransition, RuleVersion
from apps.risk.providers import Component, load_providers
from apps.risk.scoring import RANDOM_CONTROL_AREA, RateTable, by_area, channel_for, combine, random_draw
from apps.targeting.events import announce_target_changed
from apps.targeting.models import Scope, Target
from apps.targeting.routing import engine_scope, rule_ports_for
from apps.watchlists.rulings import record_screening

__all__ = [
    "activate_rule",
    "assess_subjects",
    "create_rule",
    "get_rule_for",
    "publish_rule_to_shadow",
    "retire_rule",
    "rule_hit_counts",
    "update_rule",
    "visible_rules",
]

logger = logging.getLogger(__name__)

FORMULA = "score = 100 * (1 - Π(1 - s/100)) over the counting components s (0-100 each)"
#: The fields of a rule version a person writes; anything else is kept from the previous version.
VERSION_FIELDS = (
    "condition",
    "text",
    "subject_kind",
    "risk_area",
    "weight",
    "ports",
    "valid_from",
    "valid_to",
    "rationale",
)


# --- reading ------------------------------------------------------------------------------------------


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


# --- writing rules -------------------------------------------------------------------------------------


def _check_owner(actor: User, rule: Rule) -> None:
    """Only the owner agency changes a rule; a granted agency may at most see and backtest it."""
    if membership_of(actor).agency_id != rule.owner_agency_id:
        raise PermissionDenied("Only the owner agency may change this rule.")


def _check_team(actor: User, ports: list[str]) -> None:
    """A port team changes only its own ports' rules, and none under the centralised model (``routing``).

    A national rule (no ports) is the national centre's: a port team cannot change it into its own."""
    membership = membership_of(actor)
    if membership is None or not membership.ports.exists():
        return
    if not ports:
        raise PermissionDenied("A national rule is the national centre's to change.")
    rule_ports_for(membership, list(ports))


def _clean_version(data: dict[str, Any]) -> dict[str, Any]:
    """Validate what a version says and return it normalised; ``ValidationError`` names the field."""
    from apps.targeting.models import RiskArea

    # Each message names its field, as the editor labels it: the same text reaches the form, the API
    # and the lifecycle buttons' banner, where no field is beside it.
    errors: dict[str, str] = {}
    kind = data.get("subject_kind")
    if kind not in SubjectKind.values:
        kinds = ", ".join(str(label).lower() for label in SubjectKind.labels)
        raise ValidationError(
            {
                "subject_kind": f"Subjects: choose what the rule looks at ({kinds})."
                if not kind
                else f"Subjects: “{kind}” is not a kind of subject; choose one of: {kinds}."
            }
        )
    text, condition = (data.get("text") or "").strip(), data.get("condition")
    try:
        if text:
            condition = parse(text, kind)
        elif condition is not None:
            condition = validate(condition, kind)
        else:
            raise ConditionError('write the condition the rule tests, e.g. origin_country = "CO"')
        text = to_text(condition, kind)
    except ConditionError as exc:
        raise ValidationError({"text": f"Condition: {exc}"}) from None
    area = data.get("risk_area")
    if area not in RiskArea.values:
        areas = ", ".join(str(label) for label in RiskArea.labels)
        errors["risk_area"] = (
            f"Risk area: choose the risk the rule targets ({areas})."
            if not area
            else f"Risk area: “{area}” is not one of the floor's risk areas ({areas})."
        )
    weight = data.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
        errors["weight"] = "Weight: give a whole number of points from 1 to 100."
    ports = sorted({str(p).strip().upper() for p in data.get("ports") or [] if str(p).strip()})
    unknown = set(ports) - set(Port.objects.filter(locode__in=ports).values_list("locode", flat=True))
    if unknown:
        errors["ports"] = (
            f"Ports: no port has the code {', '.join(sorted(unknown))}; "
            "choose ports by UN/LOCODE, or none for a national rule."
        )
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    for name, label, value in (("valid_from", "Valid from", valid_from), ("valid_to", "Valid to", valid_to)):
        if value is not None and not isinstance(value, dt.date):
            errors[name] = f"{label}: {value!r} is not a date; write it YYYY-MM-DD."
    if isinstance(valid_from, dt.date) and isinstance(valid_to, dt.date) and valid_from > valid_to:
        errors["valid_to"] = (
            f"Valid to: the end of validity ({valid_to:%d %b %Y}) is before its start ({valid_from:%d %b %Y})."
        )
    if not (data.get("rationale") or "").strip():
        errors["rationale"] = (
            "Rationale: say why the rule exists: the intelligence or the analysis behind it."
        )
    if errors:
        raise ValidationError(errors)
    return {
        "condition": condition,
        "text": text,
        "subject_kind": kind,
        "risk_area": data["risk_area"],
        "weight": weight,
        "ports": ports,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "rationale": data["rationale"].strip(),
    }


def _publish_changed(rule: Rule) -> None:
    publish_on_commit(
        group_name("agency", rule.owner_agency_id), "rule.changed", rule=rule.pk, state=rule.state
    )


def create_rule(*, actor: User, name: str, note: str = "", officer_text: str = "", **version: Any) -> Rule:
    """A new draft rule owned by the actor's agency, with its first version.

    ``officer_text`` is what those who may not read the rule (the officer at the port) are told when it
    fires; empty, they read a line made of the rule's name.
    """
    check(actor, "rule.edit")
    if not name.strip():
        raise ValidationError({"name": "Name: give the rule a name."})
    cleaned = _clean_version(version)
    cleaned["ports"] = rule_ports_for(membership_of(actor), cleaned["ports"])
    with transaction.atomic():
        rule = Rule.objects.create(
            name=name.strip(),
            officer_text=officer_text.strip(),
            owner_agency_id=membership_of(actor).agency_id,
            created_by=actor,
            latest_number=1,
        )
        RuleVersion.objects.create(
            rule=rule, number=1, created_by=actor, note=note or "First version", **cleaned
        )
        RuleTransition.objects.create(
            rule=rule,
            from_state=RuleState.DRAFT,
            to_state=RuleState.DRAFT,
            version=rule.latest,
            actor=actor,
            reason="Created",
        )
        _publish_changed(rule)
    return rule


def update_rule(
    *,
    actor: User,
    rule: Rule,
    note: str = "",
    name: str | None = None,
    officer_text: str | None = None,
    **changes: Any,
) -> RuleVersion:
    """Record a new version with ``changes`` applied to the latest one; the running version stays.

    A draft simply has a newer wording. A shadow or active rule keeps running its live version until a
    risk manager publishes the new one (shadow first, or straight to active from active).
    """
    check(actor, "rule.edit", rule)
    _check_owner(actor, rule)
    if rule.state == RuleState.RETIRED:
        raise ValidationError("A retired rule cannot be changed; copy it into a new rule.")
    unknown = set(changes) - set(VERSION_FIELDS)
    if unknown:
        raise ValidationError(
            f"A rule has no field {', '.join(sorted(unknown))}; its fields are {', '.join(VERSION_FIELDS)}."
        )
    with transaction.atomic():
        locked = Rule.objects.select_for_update().get(pk=rule.pk)
        latest = locked.versions.latest("number")  # every rule has its first version
        data = {f: getattr(latest, f) for f in VERSION_FIELDS}
        if "condition" in changes and "text" not in changes:
            data["text"] = ""
        _check_team(actor, latest.ports)
        data.update(changes)
        cleaned = _clean_version(data)
        _check_team(actor, cleaned["ports"])
        if name is not None and name.strip():
            locked.name = name.strip()
        if officer_text is not None:
            locked.officer_text = officer_text.strip()
        if (
            all(cleaned[f] == getattr(latest, f) for f in VERSION_FIELDS if f != "text")
            and locked.name == rule.name
            and locked.officer_text == rule.officer_text
        ):
            raise ValidationError("Nothing changed.")
        locked.latest_number = latest.number + 1
        locked.save(update_fields=["name", "officer_text", "latest_number", "updated_at"])
        version = RuleVersion.objects.create(
            rule=locked, number=locked.latest_number, created_by=actor, note=note, **cleaned
        )
        _publish_changed(locked)
    rule.refresh_from_db()
    return version


# Allowed moves: (from state, to state). Activating from active promotes a newer version.
_MOVES: dict[str, set[str]] = {
    RuleState.SHADOW: {RuleState.DRAFT, RuleState.SHADOW},
    RuleState.ACTIVE: {RuleState.SHADOW, RuleState.ACTIVE},
    RuleState.RETIRED: {RuleState.DRAFT, RuleState.SHADOW, RuleState.ACTIVE},
}


def _move(actor: User, rule: Rule, to_state: str, reason: str) -> Rule:
    check(actor, "rule.publish", rule)
    _check_owner(actor, rule)
    current = Rule.objects.get(pk=rule.pk)
    if current.state not in _MOVES[to_state]:
        raise ValidationError(f"A {current.state} rule cannot become {to_state}.")
    latest = current.versions.latest("number")  # every rule has its first version
    _check_team(actor, latest.ports)
    live = None if to_state == RuleState.RETIRED else latest
    if to_state == current.state and (current.live_version_id == latest.pk):
        raise ValidationError(f"The rule is already {to_state} with its latest version.")
    with transaction.atomic():
        # Conditional update: if someone else moved the rule meanwhile, this changes nothing.
        moved = Rule.objects.filter(
            pk=rule.pk,
            state=current.state,
            live_version_id=current.live_version_id,
            latest_number=current.latest_number,
        ).update(state=to_state, live_version=live)
        if moved != 1:
            raise ValidationError("The rule was changed by someone else meanwhile; reload and try again.")
        RuleTransition.objects.create(
            rule=current,
            version=latest,
            from_state=current.state,
            to_state=to_state,
            actor=actor,
            reason=reason,
        )
        current.refresh_from_db()
        _publish_changed(current)
    rule.refresh_from_db()
    return rule


def publish_rule_to_shadow(*, actor: User, rule: Rule, reason: str = "") -> Rule:
    """Run the latest version in shadow: evaluated on every subject, recorded, never nominating."""
    return _move(actor, rule, RuleState.SHADOW, reason)


def activate_rule(*, actor: User, rule: Rule, reason: str = "") -> Rule:
    """Make the latest version active (from shadow, or to promote a new version of an active rule)."""
    if rule.state == RuleState.DRAFT:
        raise ValidationError("Run a draft in shadow before activating it.")
    return _move(actor, rule, RuleState.ACTIVE, reason)


def retire_rule(*, actor: User, rule: Rule, reason: str = "") -> Rule:
    """Stop running the rule for good; its versions and hits stay."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the rule is retired."})
    return _move(actor, rule, RuleState.RETIRED, reason)


TRANSITIONS = {"shadow": publish_rule_to_shadow, "activate": activate_rule, "retire": retire_rule}


# --- assessing -----------------------------------------------------------------------------------------


def _gather(subjects: list[Subject]) -> dict[int, list[Component]]:
    components: dict[int, list[Component]] = defaultdict(list)
    for path, provider in load_providers():
        for subject_id, found in (provider(subjects) or {}).items():
            components[subject_id].extend(found)
        logger.debug("risk provider %s done for %d subjects", path, len(subjects))
    return components


def _explain(
    subject: Subject, found: list[Component], settings: RiskSettings, rates: RateTable
) -> tuple[float, str, str, bool, dict[str, Any]]:
    counting = sorted((c for c in found if not c.shadow), key=lambda c: -c.score)
    shadow = sorted((c for c in found if c.shadow), key=lambda c: -c.score)
    score = combine(c.score for c in counting)
    areas = by_area(counting)
    area = max(areas, key=lambda a: areas[a]) if areas else ""
    channel = channel_for(score, counting, yellow=settings.yellow_threshold, red=settings.red_threshold)
    share = rates.share(subject.port_id, subject.kind)
    draw = random_draw(subject.pk, settings.random_salt)
    selected = draw < share
    if selected:
        channel = "red"
    explanation = {
        "formula": FORMULA,
        "score": score,
        "shadow_score": combine(c.score for c in counting + shadow),
        "components": [c.as_dict() for c in counting],
        "shadow": [c.as_dict() for c in shadow],
        "by_area": areas,
        "thresholds": {
            "yellow": settings.yellow_threshold,
            "red": settings.red_threshold,
            "nomination": settings.nomination_threshold,
        },
        "random_control": {"selected": selected, "draw": round(draw, 6), "share": share},
    }
    return score, channel, area, selected, explanation


#: Subjects assessed and nominated per transaction: a batch of ten thousand commits in short steps, so
#: that it never holds a nominated subject's row lock (or a long transaction) for minutes.
ASSESS_CHUNK = 500


def assess_subjects(subject_ids: Iterable[int]) -> list[Assessment]:
    """Assess current subjects: ask every provider, score, choose a channel, record, nominate.

    One ``Assessment`` per subject (a re-assessment adds a new one; history is kept), a ``Hit`` per rule
    version that fired (shadow ones flagged), and a target through ``apps.targeting.services.
    nominate_target`` when the score reaches the nomination threshold or the subject is drawn for
    random control. Shadow components never nominate. Large batches are assessed ``ASSESS_CHUNK``
    subjects per transaction: what a chunk committed stays if a later one fails.
    """
    ids = sorted({int(i) for i in subject_ids})
    assessments: list[Assessment] = []
    for start in range(0, len(ids), ASSESS_CHUNK):
        assessments += _assess_chunk(ids[start : start + ASSESS_CHUNK])
    return assessments


def _assess_chunk(ids: list[int]) -> list[Assessment]:
    from apps.targeting.services import nominate_target

    subjects = list(
        Subject.objects.filter(pk__in=ids, status=Subject.Status.CURRENT)
        .select_related("port")
        .order_by("pk")
    )
    if not subjects:
        return []
    settings, rates = RiskSettings.current(), RateTable.load()
    components = _gather(subjects)
    assessments: list[Assessment] = []
    found_for: list[list[Component]] = []
    for subject in subjects:
        found = components.get(subject.pk, [])
        score, channel, area, selected, explanation = _explain(subject, found, settings, rates)
        assessments.append(
            Assessment(
                subject=subject,
                score=score,
                channel=channel,
                risk_area=area,
                explanation=explanation,
                random_control=selected,
            )
        )
        found_for.append(found)
    with transaction.atomic():
        Assessment.objects.bulk_create(assessments, batch_size=2000)
        hits = [
            Hit(
                assessment=a,
                rule_id=c.details["rule_id"],
                rule_version_id=c.rule_version_id,
                shadow=c.shadow,
                weight=int(c.score),
                risk_area=c.risk_area,
                matched=c.details.get("matched", {}),
            )
            for a, found in zip(assessments, found_for, strict=True)
            for c in found
            if c.kind == "rule" and c.rule_version_id
        ]
        Hit.objects.bulk_create(hits, batch_size=5000)
        # Watchlist matches become hits a person rules before they may lead to action.
        record_screening(
            (a.pk, a.subject_id, found) for a, found in zip(assessments, found_for, strict=True) if found
        )
        # The report counts a target under its subject's latest channel: a re-assessment rewrites the
        # summary rows of the subject's existing targets (new nominations below rewrite their own).
        for target_id in Target.objects.filter(subject__in=subjects).values_list("pk", flat=True):
            announce_target_changed(target_id)
        for assessment in assessments:
            above = assessment.score >= settings.nomination_threshold
            if not (above or assessment.random_control):
                continue
            explanation = assessment.explanation
            reasons = [
                {
                    "kind": c["kind"] if c["kind"] in {"rule", "watchlist", "model"} else "rule",
                    "text": c["explanation"],
                    "ref": c["ref"],
                    # What an officer (or anyone who may not read the rule or model) is told instead.
                    "plain": c.get("plain") or "",
                    # Which list matched, so that target pages can withhold it from agencies that may
                    # not see that list (apps.targeting.masking.reasons_view).
                    **(
                        {"list": (c.get("details") or {}).get("watchlist_id")}
                        if c["kind"] == "watchlist"
                        else {}
                    ),
                }
                for c in explanation["components"]
            ]
            if assessment.random_control:
                reasons.append(
                    {
                        "kind": "random",
                        "ref": f"random:{assessment.subject_id}",
                        "text": f"Selected by chance for random control "
                        f"(share {explanation['random_control']['share']:.2%}).",
                    }
                )
            area = assessment.risk_area or RANDOM_CONTROL_AREA[assessment.subject.kind]
            with transaction.atomic():  # a savepoint: one refused nomination does not undo the batch
                try:
                    target = nominate_target(
                        actor=None,
                        subject=assessment.subject,
                        risk_area=area,
                        reasons=reasons,
                        priority=max(0, min(100, round(assessment.score))),
                        score=assessment.score,
                        by_engine=True,
                        random_control=assessment.random_control,
                        scope=engine_scope(explanation["components"]) if above else Scope.NATIONAL,
                        reason="Risk engine assessment" if above else "Random control",
                    )
                except (ValidationError, PermissionDenied) as exc:
                    logger.warning("Nomination of subject %s refused: %s", assessment.subject_id, exc)
                    explanation["nomination"] = {"nominated": False, "error": str(exc)}
                    Assessment.objects.filter(pk=assessment.pk).update(explanation=explanation)
                    continue
            explanation["nomination"] = {
                "nominated": True,
                "target_id": target.pk,
                "risk_area": area,
                "above_threshold": above,
                "random_control": assessment.random_control,
            }
            assessment.nominated, assessment.target_id = True, target.pk
            Assessment.objects.filter(pk=assessment.pk).update(
                nominated=True, target_id=target.pk, explanation=explanation
            )
    return assessments


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
    return (
        Hit.objects.visible_to(actor)
        .filter(rule=rule)
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
    not see are left out (every page and the API draw explanations through this)."""
    from apps.compliance.masking import masked_explanation, subject_is_masked
    from apps.watchlists.screening import visible_components

    explanation = dict(assessment.explanation or {})
    for key in ("components", "shadow"):
        if key in explanation:
            explanation[key] = visible_components(user, explanation[key])
    # A depersonalised traveller's explanation shows what was screened and matched of him masked.
    if subject_is_masked(user, assessment.subject):
        explanation = masked_explanation(explanation)
    return explanation
