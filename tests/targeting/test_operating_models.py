"""Operating models change the floor: where the engine's hits land, who approves, what a port team sees.

The same two rules fire under each model: a national rule (no ports) on coffee from Colombia and a
Felixstowe rule (ports GBFXT) on tea from China, both on consignments arriving at Felixstowe (port_a).
Members: the national supervisor ``bob`` (no ports) and Felixstowe's own supervisor ``petra`` and analyst
``pete``, of the same customs agency.
"""

from __future__ import annotations

import html

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from apps.agencies.models import CentreConfiguration
from apps.agencies.roles import Role
from apps.risk.models import RiskSettings
from apps.risk.services import assess_subjects
from apps.targeting import services
from apps.targeting.models import Target, TargetState, Transition
from tests.factories import DataSourceFactory, member
from tests.risk.conftest import make_subject, write_rule

S = TargetState
COFFEE = {"hs_code": "09011100", "origin_country": "CO", "declared_value": 1000, "net_mass_kg": 100}
TEA = {"hs_code": "09021000", "origin_country": "CN", "declared_value": 1000, "net_mass_kg": 100}


@pytest.fixture
def floor(world, operating_model):
    """Rules written while the model allows port rules; then each test sets its own model."""
    RiskSettings.objects.create(random_control_share=0.0)
    national_rm = member("rita", world.customs, Role.RISK_MANAGER)
    port_rm = member("ron", world.customs, Role.RISK_MANAGER, ports=[world.port_a])
    operating_model("hybrid")
    write_rule(
        national_rm, 'hs_code prefix "0901" and origin_country = "CO"', state="active", name="National coffee"
    )
    write_rule(
        port_rm, 'hs_code prefix "0902" and origin_country = "CN"', state="active", name="Felixstowe tea"
    )
    source = DataSourceFactory(owner_agency=world.customs, kind="declaration", name="CUS declarations")

    def hits(model: str) -> tuple[Target, Target]:
        operating_model(model)
        coffee = make_subject(source, COFFEE, port=world.port_a)
        tea = make_subject(source, TEA, port=world.port_a)
        assess_subjects([coffee.pk, tea.pk])
        return Target.objects.get(subject=coffee), Target.objects.get(subject=tea)

    return hits


def _to_approval(target: Target, analyst) -> Target:
    services.start_review(actor=analyst, target=target)
    return services.submit_for_approval(actor=analyst, target=target)


def _sees(user, target: Target) -> bool:
    return Target.objects.visible_to(user).filter(pk=target.pk).exists()


def test_centralised_every_hit_goes_to_the_national_queue_and_the_port_executes(
    floor, world, customs_supervisor, customs_analyst, port_supervisor, port_analyst
):
    national, local = floor("centralised")
    assert (national.scope, local.scope) == ("national", "port")  # the rule that fired is remembered
    for target in (national, local):
        # The port team does not see the national desk's deliberation...
        assert not _sees(port_supervisor, target) and not _sees(port_analyst, target)
        _to_approval(target, customs_analyst)
        with pytest.raises(Http404):
            services.approve_target(actor=port_supervisor, target=target)
        services.approve_target(actor=customs_supervisor, target=target)
        # ...and sees the target once approved for its port: it executes.
        assert _sees(port_supervisor, target) and _sees(port_analyst, target)
        with pytest.raises(PermissionDenied, match="National centre"):
            services.dispatch_target(
                actor=port_supervisor, target=target, method="scan", instruction="Scan it."
            )


def test_decentralised_each_port_targets_and_approves_for_itself(
    floor, world, customs_supervisor, customs_analyst, port_supervisor, port_analyst
):
    national, local = floor("decentralised")
    elsewhere = services.nominate_target(
        actor=customs_analyst,
        subject=make_subject(national.subject.source, COFFEE, port=world.port_b),
        risk_area="narcotics",
        reasons=["Seen at Heathrow"],
    )
    for target in (national, local):
        assert _sees(port_analyst, target) and _sees(customs_supervisor, target)  # national sees all
        _to_approval(target, port_analyst)
        with pytest.raises(PermissionDenied, match="Port team GBFXT"):
            services.approve_target(actor=customs_supervisor, target=target)
        services.approve_target(actor=port_supervisor, target=target)
        assert target.state == S.APPROVED
    # Another port's targets are not Felixstowe's to see.
    assert not _sees(port_analyst, elsewhere) and not _sees(port_supervisor, elsewhere)


def test_hybrid_each_hit_lands_in_the_queue_of_the_rule_that_fired(
    floor, world, customs_supervisor, customs_analyst, port_supervisor, port_analyst
):
    national, local = floor("hybrid")
    # The national rule's hit: the national queue; the port sees it only once approved.
    assert not _sees(port_analyst, national)
    _to_approval(national, customs_analyst)
    with pytest.raises(Http404):
        services.approve_target(actor=port_supervisor, target=national)
    services.approve_target(actor=customs_supervisor, target=national)
    assert _sees(port_analyst, national)
    # The port rule's hit: the port's own queue, which the national centre sees but does not decide.
    assert _sees(port_analyst, local) and _sees(customs_supervisor, local)
    _to_approval(local, port_analyst)
    with pytest.raises(PermissionDenied, match="Port team GBFXT"):
        services.approve_target(actor=customs_supervisor, target=local)
    services.approve_target(actor=port_supervisor, target=local)
    assert local.state == S.APPROVED


def test_a_port_analyst_sees_what_he_nominated_under_any_model(world, operating_model, port_analyst):
    operating_model("centralised")
    source = DataSourceFactory(owner_agency=world.customs)
    subject = make_subject(source, COFFEE, port=world.port_a)
    target = services.nominate_target(
        actor=port_analyst, subject=subject, risk_area="narcotics", reasons=["Tip-off"]
    )
    assert _sees(port_analyst, target)


def test_who_writes_rules_for_where(world, operating_model):
    national_rm = member("rita", world.customs, Role.RISK_MANAGER)
    port_rm = member("ron", world.customs, Role.RISK_MANAGER, ports=[world.port_a])
    rule = dict(
        subject_kind="consignment", risk_area="narcotics", weight=50, rationale="Seizures in 2024."
    )  # fmt: skip
    operating_model("centralised")
    with pytest.raises(PermissionDenied, match="centralised"):
        write_rule(port_rm, 'origin_country = "CO"', **rule)
    national = write_rule(national_rm, 'origin_country = "CO"', **rule)
    operating_model("hybrid")
    with pytest.raises(ValidationError, match="GBLHR"):
        write_rule(port_rm, 'origin_country = "PE"', ports=["GBLHR"], **rule)
    own = write_rule(port_rm, 'origin_country = "PE"', **rule)
    assert own.versions.get().ports == ["GBFXT"]  # no ports given: the team's own
    from apps.risk.services import update_rule

    with pytest.raises(PermissionDenied, match="national centre"):
        update_rule(actor=port_rm, rule=national, weight=10)
    update_rule(actor=national_rm, rule=own, weight=60)  # the national centre may change any of its agency's


def test_switching_the_model_in_the_admin_reroutes_open_work_with_a_record(
    client, world, operating_model, make_target, customs_analyst, port_analyst
):
    config = operating_model("centralised")
    config.national_agency = world.customs
    config.save()
    open_target = make_target(state=S.IN_REVIEW, claimed_by=customs_analyst)
    no_port = make_target(state=S.NOMINATED, port=None)
    done = make_target(state=S.CLOSED)
    versions = {t.pk: t.version for t in (open_target, no_port, done)}
    admin = member("ada", world.customs, Role.ADMINISTRATOR)
    admin.is_staff = True
    admin.save()
    admin.user_permissions.set(Permission.objects.filter(codename="change_centreconfiguration"))
    client.force_login(admin)
    url = reverse("admin:agencies_centreconfiguration_change", args=[config.pk])
    form = {
        "operating_model": "decentralised",
        "national_agency": world.customs.pk,
        "four_eyes_centralised": "on",
        "four_eyes_decentralised": "on",
        "four_eyes_hybrid": "on",
    }
    response = client.post(url, form, follow=True)
    assert response.status_code == 200
    assert CentreConfiguration.current().operating_model == "decentralised"
    assert "1 open target re-routed (1 to Port team GBFXT)" in response.content.decode()
    open_target.refresh_from_db()
    assert open_target.claimed_by_id is None and open_target.version == versions[open_target.pk] + 1
    line = Transition.objects.filter(target=open_target).order_by("-pk").first()
    assert line.actor_id == admin.pk and (line.from_state, line.to_state) == (S.IN_REVIEW, S.IN_REVIEW)
    assert line.reason == (
        "Re-routed from National centre to Port team GBFXT: operating model changed from centralised to decentralised"
    )
    # A target with no port stays national, a closed one is not work: neither is touched.
    for other in (no_port, done):
        other.refresh_from_db()
        assert other.version == versions[other.pk]
    assert (
        "re-routed"
        in LogEntry.objects.filter(object_id=str(config.pk)).latest("action_time").get_change_message()
    )
    # The port team now works it.
    assert _sees(port_analyst, open_target)
    services.start_review(actor=port_analyst, target=make_target(state=S.NOMINATED))


@pytest.mark.parametrize(
    ("model", "said"),
    [
        ("centralised", "Your ports' targets (GBFXT) once the national centre has approved them"),
        ("decentralised", "Every target at your ports (GBFXT)"),
        ("hybrid", "Your ports' own targets (GBFXT) from nomination, and national ones once approved"),
    ],
)
def test_the_target_list_tells_a_port_team_what_it_sees_and_why(
    client, operating_model, port_analyst, customs_analyst, model, said
):
    operating_model(model)
    client.force_login(port_analyst)
    assert said in html.unescape(client.get(reverse("targeting:list")).content.decode())
    client.force_login(customs_analyst)
    assert (
        "Every target owned by or shared with your agency."
        in client.get(reverse("targeting:list")).content.decode()
    )
