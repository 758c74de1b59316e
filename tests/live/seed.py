"""Data for the browser test and the benchmark, made in the Daphne server's own database."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone


def seed_board() -> dict[str, Any]:
    """The demo world plus a busy floor: targets in every column, arrivals soon, breaches, results."""
    from apps.agencies.models import Agency, Port
    from apps.core.demo import ensure_demo_world
    from apps.intake.models import DataSource, Outcome, Subject, SubjectKind
    from apps.targeting.models import RiskArea, Target, TargetState, Transition

    ensure_demo_world()
    if Target.objects.exists():
        first = Target.objects.filter(state=TargetState.AWAITING_APPROVAL).order_by("pk").first()
        return {"approve": first.pk if first else None}
    rng = random.Random(7)
    source = DataSource.objects.get(name="Import declarations")
    customs = Agency.objects.get(code="CUS")
    ports = list(Port.objects.order_by("locode"))
    now = timezone.now()
    states = (
        [TargetState.NOMINATED] * 6 + [TargetState.IN_REVIEW] * 4 + [TargetState.AWAITING_APPROVAL] * 4
        + [TargetState.APPROVED] * 3 + [TargetState.ON_HOLD] + [TargetState.DISPATCHED] * 3
        + [TargetState.IN_EXAMINATION] * 2 + [TargetState.RESULT_RECORDED] * 3 + [TargetState.CLOSED] * 2
    )  # fmt: skip
    areas = [
        RiskArea.NARCOTICS,
        RiskArea.REVENUE,
        RiskArea.IPR,
        RiskArea.WEAPONS,
        RiskArea.CITES,
        RiskArea.SPS,
    ]
    made = []
    for i, state in enumerate(states):
        arrival = now + timedelta(minutes=rng.randint(20, 11 * 60))
        subject = Subject.objects.create(
            kind=SubjectKind.CONSIGNMENT, source=source, owner_agency=customs, external_id=f"DEC-LIVE-{i:04d}",
            title=f"Container {i}", port=ports[i % len(ports)], arrival_at=arrival, received_at=now,
            facts={"hs_code": "9403"},
        )  # fmt: skip
        target = Target.objects.create(
            subject=subject, owner_agency=customs, state=state, risk_area=areas[i % len(areas)],
            priority=rng.randint(30, 90), port=subject.port, arrival_at=arrival,
            reasons=[{"kind": "rule", "text": "Seeded for the live board", "ref": "R-1"}],
        )  # fmt: skip
        Transition.objects.create(target=target, to_state=state, version=1, reason="seed")
        if state in {TargetState.RESULT_RECORDED, TargetState.CLOSED}:
            Outcome.objects.create(
                subject=subject,
                origin=Outcome.Origin.EXAMINATION,
                finding=i % 2 == 0,
                severity=2,
                recorded_at=now,
            )
        made.append(target)
    approve = (
        next(t for t in made if t.state == TargetState.AWAITING_APPROVAL and t.port.locode == "GBFXT")
        if any(t.state == TargetState.AWAITING_APPROVAL and t.port.locode == "GBFXT" for t in made)
        else next(t for t in made if t.state == TargetState.AWAITING_APPROVAL)
    )
    # One undecided target arriving within the hour: a breach on the board.
    Target.objects.filter(pk=made[0].pk).update(arrival_at=now + timedelta(minutes=45))
    return {"approve": approve.pk, "targets": len(made)}


def seed_bench(users: int = 2000, targets: int = 400) -> dict[str, Any]:
    """``users`` customs analysts with a signed-in session each, and ``targets`` nominated targets."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    from apps.agencies.models import Agency, Membership, Port
    from apps.agencies.roles import Role
    from apps.core.demo import ensure_demo_world
    from apps.intake.models import DataSource, Subject, SubjectKind
    from apps.targeting.models import RiskArea, Target, TargetState

    ensure_demo_world()
    customs = Agency.objects.get(code="CUS")
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"bench-{i:05d}", first_name="Bench", last_name=str(i)) for i in range(users)],
        ignore_conflicts=True,
    )
    people = list(User.objects.filter(username__startswith="bench-").order_by("username")[:users])
    Membership.objects.bulk_create(
        [Membership(user=u, agency=customs, role=Role.ANALYST) for u in people], ignore_conflicts=True
    )
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for user in people:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append([user.pk, store.session_key])
    source = DataSource.objects.get(name="Import declarations")
    port = Port.objects.get(locode="GBFXT")
    now = timezone.now()
    subjects = Subject.objects.bulk_create(
        [
            Subject(kind=SubjectKind.CONSIGNMENT, source=source, owner_agency=customs, external_id=f"DEC-BENCH-{i:05d}",
                    title=f"Bench container {i}", port=port, arrival_at=now + timedelta(hours=8), received_at=now)
            for i in range(targets)
        ]
    )  # fmt: skip
    made = Target.objects.bulk_create(
        [
            Target(subject=s, owner_agency=customs, state=TargetState.NOMINATED, risk_area=RiskArea.REVENUE,
                   port=port, arrival_at=s.arrival_at)
            for s in subjects
        ]
    )  # fmt: skip
    return {"sessions": sessions, "targets": [t.pk for t in made]}


def seed_flow() -> dict[str, Any]:
    """The demo world, one active rule and one consignment it fired on, not yet nominated.

    The rule weighs 40, below the nomination threshold, so the engine leaves the decision to the analyst:
    the browser test nominates it by hand from the assessment the hit produced.
    """
    from django.contrib.auth import get_user_model

    from apps.agencies.models import Agency, Port
    from apps.core.demo import ensure_demo_world
    from apps.intake.models import DataSource, Subject, SubjectKind
    from apps.risk import services as risk
    from apps.risk.models import RiskSettings

    ensure_demo_world()
    settings = RiskSettings.current()
    settings.random_control_share = 0.0  # no chance selection: the analyst decides this one
    settings.save()
    manager = get_user_model().objects.get(username="riskmanager")
    rule = risk.create_rule(
        actor=manager,
        name="Coffee from the Andes",
        text='hs_code prefix "0901" and origin_country in ("CO", "PE")',
        subject_kind="consignment",
        risk_area="narcotics",
        weight=40,
        rationale="Cocaine concealed in coffee shipments from Colombia and Peru.",
    )
    risk.publish_rule_to_shadow(actor=manager, rule=rule)
    risk.activate_rule(actor=manager, rule=rule, reason="Shadow hits looked right")
    now = timezone.now()
    subject = Subject.objects.create(
        kind=SubjectKind.CONSIGNMENT,
        source=DataSource.objects.get(name="Import declarations"),
        owner_agency=Agency.objects.get(code="CUS"),
        external_id="DEC-FLOW-0001",
        title="Container MSKU 7712345 — green coffee beans",
        port=Port.objects.get(locode="GBFXT"),
        arrival_at=now + timedelta(hours=6),
        received_at=now,
        facts={"hs_code": "090111", "origin_country": "CO", "container": "MSKU7712345"},
    )
    (assessment,) = risk.assess_subjects([subject.pk])
    return {"subject": subject.pk, "assessment": assessment.pk, "rule": rule.pk}
