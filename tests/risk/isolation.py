"""Risk routes with a parameter, each with a maker of an object owned by customs (see tests/isolation.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from apps.intake.models import Subject
from apps.risk.models import Assessment, Backtest, Rule, RuleVersion
from tests.factories import DataSourceFactory


def _rule(w: Any) -> Rule:
    rule = Rule.objects.create(name="Customs coffee rule", owner_agency=w.customs, latest_number=1)
    RuleVersion.objects.create(
        rule=rule,
        number=1,
        condition={"field": "hs_code", "op": "prefix", "value": ["0901"]},
        text='hs_code prefix "0901"',
        subject_kind="consignment",
        risk_area="narcotics",
        weight=60,
        rationale="Seizures in coffee.",
    )
    return rule


def _backtest(w: Any) -> dict[str, int]:
    rule = _rule(w)
    backtest = Backtest.objects.create(
        owner_agency=w.customs,
        rule=rule,
        version=rule.versions.get(),
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 1, 31),
        status=Backtest.Status.DONE,
    )
    return {"pk": backtest.pk}


def _assessment(w: Any) -> dict[str, int]:
    source = DataSourceFactory(owner_agency=w.customs)
    subject = Subject.objects.create(
        kind="consignment",
        source=source,
        owner_agency=w.customs,
        external_id="CUS-1",
        title="CUS declaration",
        received_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        facts={"hs_code": "0901"},
    )
    assessment = Assessment.objects.create(subject=subject, score=10, channel="green", explanation={})
    return {"pk": assessment.pk}


SCOPED_ROUTES = {
    "risk:rule": lambda w: {"pk": _rule(w).pk},
    "risk:rule_edit": lambda w: {"pk": _rule(w).pk},
    "risk:rule_shadow": lambda w: {"pk": _rule(w).pk},
    "risk:rule_activate": lambda w: {"pk": _rule(w).pk},
    "risk:rule_retire": lambda w: {"pk": _rule(w).pk},
    "risk:backtest": _backtest,
    "risk:assessment": _assessment,
    "risk-rule-detail": lambda w: {"pk": _rule(w).pk},
    "risk-rule-transitions": lambda w: {"pk": _rule(w).pk},
    "risk-backtest-detail": _backtest,
    "risk-assessment-detail": _assessment,
}
