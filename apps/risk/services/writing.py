"""Writing rules: a new rule with its first version, a new version of a rule; each version is validated
and never changed once written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.agencies.models import Port
from apps.agencies.operations import check, membership_of
from apps.core.events import group_name, publish_on_commit
from apps.intake.models import SubjectKind
from apps.risk.conditions import ConditionError, parse, to_text, validate
from apps.risk.models import Rule, RuleState, RuleTransition, RuleVersion
from apps.targeting.routing import rule_ports_for

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

    ``officer_text`` is what those who may not read the rule (a partner agency, the dispatcher) are told
    when it fires; empty, they read a line made of the rule's name. The officer at the port reads none.
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
