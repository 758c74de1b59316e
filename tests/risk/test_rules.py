"""Writing rules: versions that never change, the lifecycle, and who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from guardian.shortcuts import assign_perm

from apps.agencies.roles import Role
from apps.risk import services
from apps.risk.models import Rule, RuleState, RuleVersion
from tests.factories import member
from tests.risk.conftest import write_rule

COFFEE = 'hs_code prefix "0901" and origin_country in ("CO", "PE")'


def test_a_rule_is_created_as_a_draft_with_its_first_version(risk_manager, world):
    rule = write_rule(risk_manager, COFFEE, ports=["gbfxt"], valid_from=dt.date(2025, 1, 1))
    assert rule.state == RuleState.DRAFT and rule.owner_agency == world.customs
    version = rule.latest
    assert version.number == 1 and version.ports == ["GBFXT"] and version.weight == 70
    assert version.condition["args"][0] == {"field": "hs_code", "op": "prefix", "value": ["0901"]}
    assert version.text == COFFEE
    assert rule.transitions.count() == 1


def test_every_change_makes_a_new_immutable_version(risk_manager):
    rule = write_rule(risk_manager, COFFEE)
    v2 = services.update_rule(actor=risk_manager, rule=rule, weight=90, note="Raised after seizures")
    v3 = services.update_rule(actor=risk_manager, rule=rule, text='hs_code prefix "0901"')
    assert [v.number for v in rule.versions.all()] == [3, 2, 1]
    assert v2.weight == 90 and v2.text == COFFEE
    assert v3.weight == 90 and v3.text == 'hs_code prefix "0901"'
    first = RuleVersion.objects.get(rule=rule, number=1)
    first.weight = 5
    with pytest.raises(ValidationError, match="immutable"):
        first.save()
    with pytest.raises(ValidationError, match="Nothing changed"):
        services.update_rule(actor=risk_manager, rule=rule, weight=90)


def test_bad_input_is_refused_with_the_field_named(risk_manager):
    with pytest.raises(ValidationError) as caught:
        write_rule(risk_manager, 'hs_code prefx "0901"')
    assert "column 9" in caught.value.message_dict["text"][0]
    with pytest.raises(ValidationError) as caught:
        write_rule(
            risk_manager,
            COFFEE,
            weight=0,
            risk_area="gold",
            ports=["XXXXX"],
            rationale=" ",
            valid_from=dt.date(2025, 2, 1),
            valid_to=dt.date(2025, 1, 1),
        )
    assert set(caught.value.message_dict) == {"weight", "risk_area", "ports", "rationale", "valid_to"}
    assert not Rule.objects.exists()


def test_lifecycle_draft_shadow_active_retired(risk_manager):
    rule = write_rule(risk_manager, COFFEE)
    with pytest.raises(ValidationError, match="shadow before"):
        services.activate_rule(actor=risk_manager, rule=rule)
    services.publish_rule_to_shadow(actor=risk_manager, rule=rule)
    assert rule.state == RuleState.SHADOW and rule.live_version.number == 1
    services.activate_rule(actor=risk_manager, rule=rule, reason="Shadow hits looked right")
    assert rule.state == RuleState.ACTIVE
    # An edit of an active rule waits; the live version keeps running until it is published.
    services.update_rule(actor=risk_manager, rule=rule, weight=80)
    rule.refresh_from_db()
    assert rule.live_version.number == 1 and rule.has_unpublished_changes
    services.activate_rule(actor=risk_manager, rule=rule)
    assert rule.live_version.number == 2
    with pytest.raises(ValidationError, match="Say why"):
        services.retire_rule(actor=risk_manager, rule=rule)
    services.retire_rule(actor=risk_manager, rule=rule, reason="Route closed")
    assert rule.state == RuleState.RETIRED and rule.live_version is None
    with pytest.raises(ValidationError):
        services.update_rule(actor=risk_manager, rule=rule, weight=10)
    with pytest.raises(ValidationError):
        services.publish_rule_to_shadow(actor=risk_manager, rule=rule)
    moves = list(rule.transitions.order_by("at", "pk").values_list("from_state", "to_state"))
    assert moves == [
        ("draft", "draft"),
        ("draft", "shadow"),
        ("shadow", "active"),
        ("active", "active"),
        ("active", "retired"),
    ]


def test_a_concurrent_move_is_a_conflict(risk_manager, monkeypatch):
    """Two risk managers press "shadow" on the same draft: the second is told, nothing is half-done."""
    rule = write_rule(risk_manager, COFFEE)
    seen_before = Rule.objects.get(pk=rule.pk)  # what the second person's page read: still a draft
    services.publish_rule_to_shadow(actor=risk_manager, rule=rule)
    monkeypatch.setattr(Rule.objects, "get", lambda **kwargs: seen_before)
    with pytest.raises(ValidationError, match="someone else"):
        services.publish_rule_to_shadow(actor=risk_manager, rule=rule)
    monkeypatch.undo()
    assert rule.transitions.count() == 2


@pytest.mark.parametrize(
    ("role", "may_view", "may_edit"),
    [
        (Role.RISK_MANAGER, True, True),
        (Role.ANALYST, True, False),
        (Role.SUPERVISOR, True, False),
        (Role.MANAGER, True, False),
        (Role.AUDITOR, True, False),
        (Role.FRONTLINE, False, False),
        (Role.LIAISON, False, False),
        (Role.SYSTEM, False, False),
    ],
)
def test_permissions_per_role(role, may_view, may_edit, risk_manager, world):
    rule = write_rule(risk_manager, COFFEE)
    person = member(f"person-{role}", world.customs, role)
    if may_view:
        assert services.get_rule_for(person, rule.pk) == rule
    else:
        with pytest.raises(PermissionDenied):
            services.get_rule_for(person, rule.pk)
    if may_edit:
        services.update_rule(actor=person, rule=rule, weight=75)
        services.publish_rule_to_shadow(actor=person, rule=rule)
    else:
        with pytest.raises(PermissionDenied):
            services.update_rule(actor=person, rule=rule, weight=75)
        with pytest.raises(PermissionDenied):
            services.publish_rule_to_shadow(actor=person, rule=rule)
        with pytest.raises(PermissionDenied):
            write_rule(person, COFFEE)


def test_another_agency_sees_nothing_unless_granted(risk_manager, outsider_risk_manager, world):
    rule = write_rule(risk_manager, COFFEE)
    with pytest.raises(Http404):
        services.get_rule_for(outsider_risk_manager, rule.pk)
    with pytest.raises(Http404):
        services.update_rule(actor=outsider_risk_manager, rule=rule, weight=10)
    assert not services.visible_rules(outsider_risk_manager).exists()
    assign_perm("risk.view_rule", world.bio.group, rule)
    assert services.get_rule_for(outsider_risk_manager, rule.pk) == rule
    with pytest.raises(PermissionDenied, match="owner agency"):
        services.update_rule(actor=outsider_risk_manager, rule=rule, weight=10)
    with pytest.raises(PermissionDenied, match="owner agency"):
        services.retire_rule(actor=outsider_risk_manager, rule=rule, reason="not mine")


def test_rule_changes_are_announced_after_commit(
    risk_manager, django_capture_on_commit_callbacks, monkeypatch
):
    """``rule.changed`` goes to the owner agency's group, after commit, with ids only (its schema)."""
    from apps.core import events

    sent = []
    monkeypatch.setattr(events, "get_channel_layer", lambda: _Layer(sent))
    with django_capture_on_commit_callbacks(execute=True):
        rule = write_rule(risk_manager, COFFEE, state="shadow")
    group, message = sent[-1]
    assert group == f"agency-{rule.owner_agency_id}"
    assert (message["type"], message["event"], message["rule"], message["state"]) == (
        "live.event",
        "rule.changed",
        rule.pk,
        "shadow",
    )
    payload = set(message) - {"type", "event", "group", "seq"}
    assert payload == {"rule", "state"}
    registered = getattr(events, "EVENT_TYPES", {}).get("rule.changed")
    assert registered is None or registered == payload


class _Layer:
    def __init__(self, sent: list) -> None:
        self.sent = sent

    async def group_send(self, group: str, message: dict) -> None:
        self.sent.append((group, message))
