# ruff: noqa: RUF002 - typographic dashes, minus and times signs are meant for readers
"""A small known history of ten days, built with factories, whose figures are worked out by hand.

Period 3–12 March 2026 (UTC). Customs subjects S1..S10 arrive at noon on 5 March, at Felixstowe
(port_a) except S5 at Heathrow (port_b):

==== ======== ============================== ===============================================
subj channel  assessed                        target
==== ======== ============================== ===============================================
S1   green    1 h before arrival              –
S2   green    1 h before arrival              –
S3   green    3 h after arrival               – (rule R1 fired, below threshold)
S4   green    2 h before arrival              –
S5   yellow   1 h before arrival              T3 rule R1 v1, revenue, Heathrow: no finding
S6   red      1 h before arrival (random)     T1 random control: seizure (cocaine 2.5 kg, 100 000)
S7   red      2 h after arrival               T2 rule R1 v1: no finding, corrected to irregularity, 500
S8   green    1 h before arrival              T4 by a person: rejected
S9   –        never                           T5 rule R1 v1: approved, then missed
S10  –        never                           –
==== ======== ============================== ===============================================

Hand-worked figures (see ``test_measures``): arrivals 10, assessed 8, interventions 3 (T1–T3
dispatched), released with no intervention 7/10; untargeted S1–S4, S10 wait 0,0,3,0,0 h → 0.6 h;
examinations 3, findings 2 (E1, E2 corrected), hit rate 2/3, random 1/1, risk-selected 1/2; revenue
500; seized value 100 000; arrival to release of the examined 1.5, 4, 2 h → mean 2.5, median 2;
nomination to decision 1, 0.5, 9, 0.5, 4 h → mean 3.0, median 1.0; breaches T2, T3, T4 = 3; missed 1.
A police subject arriving the same day is not customs' to count. One examination (E0, rule R1 v1,
finding) happened in the previous period (21–28 Feb... 22 Feb).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from apps.agencies.roles import Role
from apps.frontline.models import ExaminationFeedback, ExaminationResult, SeizedGoods
from apps.reports.slicing import Slice
from apps.reports.stats import refresh_daily_stats
from apps.risk.models import Assessment, Hit, Rule, RuleVersion
from apps.targeting.models import Instruction, Target, Transition
from tests.factories import PortCapacityFactory, member
from tests.targeting.factories import SubjectFactory, TargetFactory

ARRIVAL = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
PERIOD = Slice(start=date(2026, 3, 3), end=date(2026, 3, 12))
H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Reports are cached per agency and slice; each test starts a new generation of keys.

    Never ``cache.clear()``: with Redis that would empty a database other processes share.
    """
    from apps.reports.services import forget_reports

    forget_reports()
    yield
    forget_reports()


@pytest.fixture
def police_manager(world):
    return member("pete", world.police, Role.MANAGER)


@pytest.fixture
def outsider_manager(world):
    return member("olga", world.bio, Role.MANAGER)


def _rule(world, name: str) -> tuple[Rule, RuleVersion]:
    rule = Rule.objects.create(owner_agency=world.customs, name=name, state="active")
    version = RuleVersion.objects.create(
        rule=rule,
        number=1,
        condition={},
        text="origin_country = 'EC'",
        subject_kind="consignment",
        risk_area="narcotics",
        weight=70,
        rationale="Cocaine route",
    )
    rule.live_version, rule.latest_number = version, 1
    rule.save()
    Rule.objects.filter(pk=rule.pk).update(created_at=ARRIVAL - 400 * 24 * H)
    rule.refresh_from_db()
    return rule, version


def _assess(subject, channel: str, at: datetime, *, random: bool = False, target=None) -> Assessment:
    a = Assessment.objects.create(
        subject=subject,
        score=70 if channel == "red" else 10,
        channel=channel,
        risk_area="narcotics",
        random_control=random,
        nominated=target is not None,
        target_id=target.pk if target else None,
    )
    Assessment.objects.filter(pk=a.pk).update(created_at=at)
    return a


def _hit(assessment: Assessment, rule: Rule, version: RuleVersion, at: datetime) -> None:
    hit = Hit.objects.create(
        assessment=assessment, rule=rule, rule_version=version, weight=70, risk_area="narcotics"
    )
    Hit.objects.filter(pk=hit.pk).update(created_at=at)


def _target(
    subject, state: str, nominated_at: datetime, *, decided: tuple[str, datetime] | None = None, **kw
):
    target = TargetFactory(subject=subject, state=state, **kw)
    Target.objects.filter(pk=target.pk).update(created_at=nominated_at)
    Transition.objects.filter(target=target).update(at=nominated_at)
    if decided:
        Transition.objects.create(
            target=target, from_state="nominated", to_state=decided[0], version=2, at=decided[1]
        )
    target.refresh_from_db()
    return target


def _examine(target, officer, port, outcome: str, start: datetime, end: datetime, **kw) -> ExaminationResult:
    supervisor = kw.pop("dispatcher")
    instruction = Instruction.objects.create(
        target=target,
        port=port,
        method="physical",
        instruction="Check the load.",
        dispatched_by=supervisor,
        dispatched_at=start - H,
    )
    return ExaminationResult.objects.create(
        target=target,
        instruction=instruction,
        idempotency_key=uuid.uuid4(),
        method="physical",
        outcome=outcome,
        started_at=start,
        ended_at=end,
        recorded_by=officer,
        recorded_by_agency=officer.membership.agency,
        recorded_at=end,
        **kw,
    )


def _feedback(result: ExaminationResult, kind: str, ref: str, finding: bool) -> None:
    ExaminationFeedback.objects.create(
        examination=result,
        target=result.target,
        kind=kind,
        ref=ref,
        outcome=result.outcome,
        finding=finding,
        random_control=result.target.random_control,
        examined_at=result.ended_at,
    )


@pytest.fixture
def history(world, customs_supervisor, port_officer):
    oscar, bob = port_officer, customs_supervisor
    hana = member("hana", world.customs, Role.FRONTLINE, ports=[world.port_b])
    PortCapacityFactory(port=world.port_a, shift="early", method="physical", slots=5)
    PortCapacityFactory(port=world.port_a, shift="late", method="physical", slots=3)
    r1, v1 = _rule(world, "Cocaine route, new consignee")
    ref = f"rule:{r1.pk}@v1"
    reasons_r1 = [{"kind": "rule", "text": "Cocaine route", "ref": ref}]
    s = {}
    for i in range(1, 11):
        port = world.port_b if i == 5 else world.port_a
        s[i] = SubjectFactory(
            source__owner_agency=world.customs,
            port=port,
            arrival_at=ARRIVAL,
            received_at=ARRIVAL - 48 * H,
            title=f"SECRET-TITLE-{i}",
            external_id=f"SECRET-ID-{i}",
        )
    SubjectFactory(
        source__owner_agency=world.police, port=world.port_a, arrival_at=ARRIVAL, received_at=ARRIVAL
    )

    t1 = _target(
        s[6],
        "result_recorded",
        ARRIVAL - 5 * H,
        decided=("approved", ARRIVAL - 4 * H),
        random_control=True,
        reasons=[{"kind": "random", "text": "Random", "ref": "random:1"}],
    )
    t2 = _target(
        s[7], "result_recorded", ARRIVAL + 2 * H, decided=("approved", ARRIVAL + 2.5 * H), reasons=reasons_r1
    )
    t3 = _target(
        s[5],
        "result_recorded",
        ARRIVAL - 10 * H,
        decided=("approved", ARRIVAL - 1 * H),
        reasons=reasons_r1,
        risk_area="revenue",
    )
    t4 = _target(
        s[8],
        "rejected",
        ARRIVAL - 1 * H,
        decided=("rejected", ARRIVAL - 0.5 * H),
        reasons=[{"kind": "person", "text": "Analyst's hunch", "ref": ""}],
    )
    t5 = _target(s[9], "missed", ARRIVAL - 24 * H, decided=("approved", ARRIVAL - 20 * H), reasons=reasons_r1)
    Transition.objects.create(
        target=t5, from_state="approved", to_state="missed", version=3, at=ARRIVAL + 4 * H
    )

    for i, channel, offset in (
        (1, "green", -1),
        (2, "green", -1),
        (3, "green", 3),
        (4, "green", -2),
        (8, "green", -1),
    ):
        a = _assess(s[i], channel, ARRIVAL + offset * H, target=t4 if i == 8 else None)
        if i == 3:
            _hit(a, r1, v1, ARRIVAL + 3 * H)
    a5 = _assess(s[5], "yellow", ARRIVAL - H, target=t3)
    _hit(a5, r1, v1, ARRIVAL - H)
    _assess(s[6], "red", ARRIVAL - H, random=True, target=t1)
    a7 = _assess(s[7], "red", ARRIVAL + 2 * H, target=t2)
    _hit(a7, r1, v1, ARRIVAL + 2 * H)

    e1 = _examine(t1, oscar, world.port_a, "seizure", ARRIVAL + 0.5 * H, ARRIVAL + 1.5 * H, dispatcher=bob)
    SeizedGoods.objects.create(
        result=e1, kind="cocaine", quantity=Decimal("2.5"), unit="kg", estimated_value=Decimal("100000")
    )
    e2 = _examine(t2, oscar, world.port_a, "no_finding", ARRIVAL + 3 * H, ARRIVAL + 4 * H, dispatcher=bob)
    ExaminationResult.objects.create(
        target=t2,
        instruction=e2.instruction,
        original=e2,
        idempotency_key=uuid.uuid4(),
        method="physical",
        outcome="irregularity",
        started_at=e2.started_at,
        ended_at=e2.ended_at,
        revenue_at_stake=Decimal("500"),
        recorded_by=bob,
        recorded_by_agency=world.customs,
        reason="Misdeclared weight found on re-weighing",
    )
    e3 = _examine(t3, hana, world.port_b, "no_finding", ARRIVAL, ARRIVAL + 2 * H, dispatcher=bob)
    _feedback(e1, "random", "random", True)
    _feedback(e2, "rule", ref, True)
    _feedback(e3, "rule", ref, False)

    # The previous period: one examination by R1 with a finding, on 22 February.
    before = ARRIVAL - 11 * 24 * H
    s0 = SubjectFactory(
        source__owner_agency=world.customs, port=world.port_a, arrival_at=before, received_at=before
    )
    t0 = _target(
        s0, "result_recorded", before - 5 * H, decided=("approved", before - 4 * H), reasons=reasons_r1
    )
    e0 = _examine(t0, oscar, world.port_a, "seizure", before, before + H, dispatcher=bob)
    _feedback(e0, "rule", ref, True)

    refresh_daily_stats(date(2026, 2, 1), date(2026, 3, 31))
    return SimpleNamespace(
        rule=r1,
        version=v1,
        ref=ref,
        targets=[t1, t2, t3, t4, t5],
        subjects=s,
        results=[e1, e2, e3],
        oscar=oscar,
        hana=hana,
        bob=bob,
        period=PERIOD,
    )
