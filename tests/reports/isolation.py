"""Report routes with a parameter (see tests/isolation.py): a rule's effectiveness page is 404 to others."""

from __future__ import annotations

from typing import Any

from apps.agencies.roles import Role
from apps.reports.models import ReportSubscription
from apps.risk.models import Rule, RuleVersion
from tests.factories import member


def _rule(w: Any) -> dict[str, int]:
    rule = Rule.objects.create(name="Customs tobacco rule", owner_agency=w.customs, latest_number=1)
    RuleVersion.objects.create(
        rule=rule,
        number=1,
        condition={"field": "hs_code", "op": "prefix", "value": ["2402"]},
        text='hs_code prefix "2402"',
        subject_kind="consignment",
        risk_area="revenue",
        weight=50,
        rationale="Cigarette smuggling.",
    )
    return {"pk": rule.pk}


def _subscription(w: Any) -> dict[str, int]:
    subscriber = member("customs.reader", w.customs, Role.MANAGER)
    return {"pk": ReportSubscription.objects.create(user=subscriber).pk}


SCOPED_ROUTES = {"reports:rule": _rule, "reports:stop_subscription": _subscription}
REFERENCE_ROUTES: set[str] = set()
