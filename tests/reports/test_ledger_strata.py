# ruff: noqa: RUF001, RUF002, RUF003 - typographic dashes, minus and times signs are meant for readers
"""The ledger's random baseline per subject kind, port and risk area, on generated data with known rates.

Period 3–12 March 2026. Customs examinations, counted by hand:

======================================= ================ ============ ==========================
stratum                                 random control   rule R1      rule R2
======================================= ================ ============ ==========================
A consignment · Felixstowe · narcotics  6 of 60 (10 %)   12 of 30     –
B traveller · Heathrow · narcotics      16 of 40 (40 %)  18 of 30     12 of 30 (the random rate)
C consignment · Heathrow · revenue      1 of 10          10 of 20     –
======================================= ================ ============ ==========================

Pooled, random control finds 23 of 110 (20.9 %). R1's stratum lifts are 4 (A) and 1.5 (B); C has too
few random draws. Mantel–Haenszel over A and B: (12·60/90 + 18·40/70) ÷ (6·30/90 + 16·30/70) =
(8 + 10.2857) ÷ (2 + 6.8571) = 2.0645, while dividing R1's pooled precision by the pooled random rate
would say 2.39. R2 examines only where violations are common and finds exactly the random rate there:
its lift is 1, where a pooled baseline would credit it with 1.91.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apps.frontline.models import ExaminationFeedback, ExaminationResult
from apps.reports.effectiveness import (
    Z95,
    katz_lift,
    ledger,
    mh_lift,
    random_not_examined,
    wilson,
)
from apps.risk.models import Rule, RuleVersion
from apps.targeting.models import Target, Transition
from tests.factories import DataSourceFactory
from tests.targeting.factories import SubjectFactory

from .conftest import PERIOD

AT = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
QUERY = "start=2026-03-03&end=2026-03-12"


# --------------------------------------------------------------------------- formulas, no database


def test_wilson_by_hand():
    # 6 of 60: p = 0.1, z²/n = 0.064; centre 0.1320, half 0.0815 → (0.0465, 0.2045) after ÷ 1.064.
    r = wilson(6, 60)
    z = Z95
    centre = (0.1 + z * z / 120) / (1 + z * z / 60)
    half = z * math.sqrt(0.1 * 0.9 / 60 + z * z / (4 * 3600)) / (1 + z * z / 60)
    assert r.value == pytest.approx(0.1)
    assert r.low == pytest.approx(centre - half) and r.high == pytest.approx(centre + half)
    assert r.low == pytest.approx(0.04664, abs=1e-4) and r.high == pytest.approx(0.20145, abs=1e-4)
    zero = wilson(0, 30)
    assert zero.value == 0 and zero.low == 0 and 0.10 < zero.high < 0.12
    assert wilson(0, 0).value is None


def test_mantel_haenszel_by_hand_and_one_stratum_is_katz():
    lift = mh_lift([(12, 30, 6, 60), (18, 30, 16, 40)])
    assert lift.value == pytest.approx((8 + 18 * 40 / 70) / (2 + 16 * 30 / 70))
    assert lift.value == pytest.approx(2.0645, abs=1e-4)
    assert lift.low < lift.value < lift.high and not lift.corrected
    # Greenland–Robins with one stratum is Katz's interval exactly.
    assert mh_lift([(20, 50, 5, 100)]) == katz_lift(20, 50, 5, 100)
    nothing = mh_lift([(0, 30, 6, 60), (0, 30, 16, 40)])
    assert nothing.value == 0 and nothing.corrected and 0 < nothing.low < nothing.high
    assert mh_lift([]).value is None


def test_intervals_cover_the_true_values():
    """Simulated draws with known rates per stratum: the 95 % intervals hold the truth ~95 % of the time."""
    rng = random.Random(20260306)
    true_base = {"A": 0.05, "B": 0.30, "C": 0.15}
    true_lift = 2.0  # the selector's precision is twice the random rate in every stratum
    # (selector, random) examinations: the selector works mostly where violations are common, random
    # control draws mostly where they are rare, so a pooled baseline would credit it with about 4.8×.
    sizes = {"A": (20, 600), "B": (120, 100), "C": (40, 200)}
    runs, rate_hits, lift_hits, pooled_hits = 400, 0, 0, 0
    for _ in range(runs):
        cells = []
        for k, p in true_base.items():
            n1, n0 = sizes[k]
            a = sum(rng.random() < p * true_lift for _ in range(n1))
            c = sum(rng.random() < p for _ in range(n0))
            cells.append((a, n1, c, n0))
        a_rate = wilson(cells[0][2], cells[0][3])
        rate_hits += a_rate.low <= true_base["A"] <= a_rate.high
        lift = mh_lift(cells)
        lift_hits += lift.low <= true_lift <= lift.high
        pooled = katz_lift(sum(x[0] for x in cells), sum(x[1] for x in cells), sum(x[2] for x in cells),
                           sum(x[3] for x in cells))  # fmt: skip
        pooled_hits += pooled.low <= true_lift <= pooled.high
    assert rate_hits / runs >= 0.92
    assert lift_hits / runs >= 0.92
    # The pooled baseline (the old ledger) misses the true lift most of the time on the same draws.
    assert pooled_hits / runs < 0.5


# --------------------------------------------------------------------------- the ledger on the database


def _rule(world, name: str) -> tuple[Rule, str]:
    rule = Rule.objects.create(owner_agency=world.customs, name=name, state="active")
    version = RuleVersion.objects.create(
        rule=rule, number=1, condition={}, text="origin_country = 'EC'", subject_kind="consignment",
        risk_area="narcotics", weight=70, rationale="Generated",
    )  # fmt: skip
    rule.live_version, rule.latest_number = version, 1
    rule.save()
    return rule, f"rule:{rule.pk}@v1"


def _targets(world, n: int, kind: str, port, area: str, **kw) -> list[Target]:
    source = DataSourceFactory(owner_agency=world.customs)
    subjects = [
        SubjectFactory(source=source, kind=kind, port=port, arrival_at=AT, received_at=AT - timedelta(days=1))
        for _ in range(n)
    ]
    return Target.objects.bulk_create(
        Target(
            subject=s, owner_agency=world.customs, risk_area=area, port=port, arrival_at=AT,
            reasons=[{"kind": "random" if kw.get("random_control") else "rule", "text": "x", "ref": "x"}],
            **{"state": "result_recorded", **kw},
        )
        for s in subjects
    )  # fmt: skip


def _examined(world, officer, stratum: tuple, n: int, findings: int, kind: str, ref: str) -> None:
    subject_kind, port, area = stratum
    random_control = kind == "random"
    targets = _targets(world, n, subject_kind, port, area, random_control=random_control)
    results = ExaminationResult.objects.bulk_create(
        ExaminationResult(
            target=t, idempotency_key=uuid.uuid4(), method="physical",
            outcome="seizure" if i < findings else "no_finding", started_at=AT, ended_at=AT + timedelta(hours=1),
            recorded_by=officer, recorded_by_agency=world.customs, recorded_at=AT + timedelta(hours=1),
        )
        for i, t in enumerate(targets)
    )  # fmt: skip
    ExaminationFeedback.objects.bulk_create(
        ExaminationFeedback(
            examination=r, target=r.target, kind=kind, ref=ref, outcome=r.outcome,
            finding=r.outcome == "seizure", random_control=random_control, examined_at=r.ended_at,
        )
        for r in results
    )  # fmt: skip


def _missed(world, stratum: tuple, reasons: list[str], *, at: datetime = AT, random_control: bool = True):
    subject_kind, port, area = stratum
    targets = _targets(
        world, len(reasons), subject_kind, port, area, random_control=random_control, state="missed"
    )
    for t, reason in zip(targets, reasons, strict=True):
        Transition.objects.create(target=t, from_state="nominated", to_state="missed", version=2,
                                  reason=reason.format(id=t.subject.external_id), at=at)  # fmt: skip
    return targets


@pytest.fixture
def strata(world, port_officer):
    a = ("consignment", world.port_a, "narcotics")
    b = ("traveller", world.port_b, "narcotics")
    c = ("consignment", world.port_b, "revenue")
    r1, ref1 = _rule(world, "R1 cocaine route")
    r2, ref2 = _rule(world, "R2 busy corridor")
    for stratum, n, f in ((a, 60, 6), (b, 40, 16), (c, 10, 1)):
        _examined(world, port_officer, stratum, n, f, "random", "random")
    for stratum, n, f in ((a, 30, 12), (b, 30, 18), (c, 20, 10)):
        _examined(world, port_officer, stratum, n, f, "rule", ref1)
    _examined(world, port_officer, b, 30, 12, "rule", ref2)
    # Random draws not examined: three in A (one reason naming the subject), one in B without a reason;
    # neither a risk target missed nor a random draw missed before the period counts.
    _missed(world, a, ["Vessel sailed before the team arrived"] * 2 + ["Container {id} released early"])
    _missed(world, b, [""])
    _missed(world, a, ["Released before examination"], random_control=False)
    _missed(world, a, ["Too early"], at=AT - timedelta(days=30))
    return {"a": a, "b": b, "c": c, "r1": r1, "r2": r2}


def _key(stratum: tuple) -> tuple:
    return (stratum[0], stratum[1].pk, stratum[2])


def test_baseline_and_lift_per_stratum(strata, manager):
    book = ledger(manager, PERIOD)
    assert (book.base_exams, book.base_findings) == (110, 23)
    base = {b.stratum: b for b in book.baselines}
    a, b, c = (base[_key(strata[k])] for k in "abc")
    assert (a.rate.exams, a.rate.findings, a.rate.value) == (60, 6, pytest.approx(0.1))
    assert a.rate.low == pytest.approx(0.04664, abs=1e-4) and a.supported and a.missed == 3
    assert b.rate.value == pytest.approx(0.4) and b.supported and b.missed == 1
    assert not c.supported and c.note == "too few random-control examinations (10) to measure lift here"
    # 3 missed of 63 draws is under 10 %; 1 of 41 too: no bias warning.
    assert "biased" not in a.note and a.missed_share == pytest.approx(3 / 63)

    rows = {r.name: r for r in book.rows}
    r1, r2 = rows["R1 cocaine route"], rows["R2 busy corridor"]
    by = {x.stratum: x for x in r1.strata}
    assert by[_key(strata["a"])].lift.value == pytest.approx(4.0)
    assert by[_key(strata["a"])].lift == katz_lift(12, 30, 6, 60)
    assert by[_key(strata["b"])].lift.value == pytest.approx(1.5)
    assert by[_key(strata["c"])].lift.value is None
    assert by[_key(strata["c"])].note == "too few random-control examinations (10) to measure lift here"
    # Overall: Mantel–Haenszel over A and B only, not the pooled 2.39.
    assert r1.lift.value == pytest.approx(2.0645, abs=1e-4)
    assert r1.lift == mh_lift([(12, 30, 6, 60), (18, 30, 16, 40)])
    assert r1.measured_exams == 60 and "60 of 80 examinations" in r1.lift_note
    # R2 is no better than chance where it works, though a pooled baseline would say 1.91×.
    assert r2.lift.value == pytest.approx(1.0)
    assert r2.lift.low < 1 < r2.lift.high and r2.lift_note == ""


def test_too_few_random_draws_anywhere_says_so(strata, manager):
    from dataclasses import replace

    only_c = replace(PERIOD, port_id=strata["c"][1].pk, risk_area="revenue")
    [r1] = [r for r in ledger(manager, only_c).rows if r.name == "R1 cocaine route"]
    assert r1.lift.value is None and r1.lift.low is None
    assert r1.lift_note == "too few random-control examinations (10) to measure lift here"


def test_random_draws_not_examined_with_their_reasons(strata, manager, world):
    missed = random_not_examined(manager, PERIOD)
    got = {(m.stratum, m.reason, m.count) for m in missed}
    assert got == {
        (_key(strata["a"]), "Vessel sailed before the team arrived", 2),
        (_key(strata["a"]), "Container [subject] released early", 1),
        (_key(strata["b"]), "No reason recorded", 1),
    }
    book = ledger(manager, PERIOD)
    assert book.missed_total == 4
    assert book.label(_key(strata["a"])) == "Consignment · Felixstowe · Narcotics"


def test_a_frequent_miss_warns_of_bias(strata, manager, world):
    _missed(world, strata["c"], ["Lost"] * 2)  # 2 of 12 draws
    [c] = [b for b in ledger(manager, PERIOD).baselines if b.stratum == _key(strata["c"])]
    assert c.missed == 2 and "2 random draws not examined: the baseline may be biased" in c.note


def test_outsider_sees_no_baseline_and_no_missed_draws(strata, outsider_manager):
    book = ledger(outsider_manager, PERIOD)
    assert book.rows == [] and book.baselines == [] and book.missed == [] and book.base_exams == 0


def test_page_and_exports_show_strata_and_missed_draws(strata, manager, client_for):
    client = client_for(manager)
    page = client.get(f"{reverse('reports:effectiveness')}?{QUERY}").content.decode()
    assert "too few random-control examinations (10) to measure lift here" in page
    assert "Vessel sailed before the team arrived" in page and "Random draws not examined" in page
    assert "Mantel–Haenszel" in page and "Wilson" in page
    assert "DEC-" not in page  # no subject identifier, even where a reason named one
    strata_csv = client.get(f"{reverse('reports:export')}?table=ledger_strata&format=csv&{QUERY}")
    body = strata_csv.content.decode("utf-8-sig")
    assert strata_csv.status_code == 200
    assert "Random control,Consignment · Felixstowe · Narcotics,60,6,0.1" in body
    assert "R1 cocaine route v1,Consignment · Felixstowe · Narcotics,30,12,0.4" in body
    missed_csv = client.get(f"{reverse('reports:export')}?table=random_missed&format=csv&{QUERY}")
    text = missed_csv.content.decode("utf-8-sig")
    assert "Container [subject] released early,1" in text and "DEC-" not in text
    ledger_csv = client.get(f"{reverse('reports:export')}?table=ledger&format=csv&{QUERY}")
    assert "60 of 80 examinations" in ledger_csv.content.decode("utf-8-sig")


def test_a_watchlist_sums_its_entries_per_stratum(strata, manager, world, port_officer):
    from tests.watchlists.helpers import make_entry, make_list

    wl = make_list(world.customs, "Known couriers")
    e1, e2 = make_entry(wl, "Courier One"), make_entry(wl, "Courier Two")
    _examined(world, port_officer, strata["a"], 30, 9, "watchlist", f"watchlist-entry:{e1.pk}")
    _examined(world, port_officer, strata["b"], 30, 12, "watchlist", f"watchlist-entry:{e2.pk}")
    [row] = [r for r in ledger(manager, PERIOD).rows if r.kind == "watchlist"]
    assert (row.examinations, row.findings) == (60, 21)
    assert {(x.stratum, x.examinations, x.findings) for x in row.strata} == {
        (_key(strata["a"]), 30, 9),
        (_key(strata["b"]), 30, 12),
    }
    assert row.lift == mh_lift([(9, 30, 6, 60), (12, 30, 16, 40)])
