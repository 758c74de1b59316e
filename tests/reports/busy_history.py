"""A busier, seeded four-week history for pictures (browser screenshots): figures vary day by day."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from apps.agencies.roles import Role
from apps.frontline.models import SeizedGoods
from apps.reports.stats import refresh_daily_stats
from tests.factories import PortCapacityFactory, member
from tests.reports.conftest import H, _assess, _examine, _feedback, _hit, _rule, _target
from tests.targeting.factories import SubjectFactory

FIRST = date(2026, 2, 13)
LAST = date(2026, 3, 12)
GOODS = [
    ("cocaine", "kg", 40000),
    ("cigarettes", "sticks", 0.4),
    ("counterfeit", "pcs", 25),
    ("cannabis", "kg", 6000),
]


def build_busy_history(world, supervisor, officer) -> dict:
    rng = random.Random(7)
    other = member("hana", world.customs, Role.FRONTLINE, ports=[world.port_b])
    for port, shift, slots in (
        (world.port_a, "early", 4),
        (world.port_a, "late", 3),
        (world.port_b, "early", 3),
    ):
        PortCapacityFactory(port=port, shift=shift, method="physical", slots=slots)
    rules = [
        _rule(world, name)
        for name in ("Cocaine route, new consignee", "Undervalued footwear", "Cash couriers")
    ]
    for i in range((LAST - FIRST).days + 1):
        day = datetime.combine(FIRST + timedelta(days=i), datetime.min.time(), tzinfo=UTC) + 10 * H
        for j in range(rng.randint(3, 7)):
            port = world.port_a if j % 3 else world.port_b
            arrival = day + j * H
            subject = SubjectFactory(
                source__owner_agency=world.customs,
                port=port,
                arrival_at=arrival,
                received_at=arrival - 30 * H,
            )
            roll = rng.random()
            if roll < 0.55:
                _assess(subject, "green", arrival - H)
                continue
            random_control = roll > 0.92
            rule, version = rules[j % 3]
            ref = f"rule:{rule.pk}@v1"
            target = _target(
                subject,
                "result_recorded",
                arrival - 6 * H,
                decided=("approved", arrival - rng.choice([5, 3, 1]) * H),
                random_control=random_control,
                risk_area=["narcotics", "revenue", "currency"][j % 3],
                reasons=[{"kind": "random", "text": "Random", "ref": "random:x"}]
                if random_control
                else [{"kind": "rule", "text": rule.name, "ref": ref}],
            )
            a = _assess(
                subject,
                "red" if roll > 0.75 else "yellow",
                arrival - 2 * H,
                random=random_control,
                target=target,
            )
            if not random_control:
                _hit(a, rule, version, arrival - 2 * H)
            found = rng.random() < (0.12 if random_control else [0.45, 0.3, 0.2][j % 3])
            outcome = rng.choice(["seizure", "irregularity"]) if found else "no_finding"
            who = officer if port == world.port_a else other
            start = arrival + rng.choice([0.5, 1, 2]) * H
            result = _examine(
                target,
                who,
                port,
                outcome,
                start,
                start + rng.choice([0.5, 1, 1.5]) * H,
                dispatcher=supervisor,
                revenue_at_stake=Decimal(rng.randint(200, 9000)) if found else None,
            )
            if outcome == "seizure":
                kind, unit, price = rng.choice(GOODS)
                quantity = Decimal(rng.randint(1, 40))
                SeizedGoods.objects.create(
                    result=result,
                    kind=kind if kind != "cigarettes" else "tobacco",
                    quantity=quantity,
                    unit=unit,
                    estimated_value=quantity * Decimal(str(price)),
                )
            _feedback(
                result, "random" if random_control else "rule", "random" if random_control else ref, found
            )
    refresh_daily_stats(FIRST - timedelta(days=28), LAST)
    return {"rules": rules}
