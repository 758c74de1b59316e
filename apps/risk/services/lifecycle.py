"""A rule's lifecycle: draft, shadow (evaluated and recorded, never nominating), active, retired."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.agencies.operations import check
from apps.risk.models import Rule, RuleState, RuleTransition
from apps.risk.services.writing import _check_owner, _check_team, _publish_changed

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
