"""The assessments list: the viewer's assessments (``Assessment.visible_to``), filtered and paged.

Filters: assessed between two dates, risk area, score band (by the engine's thresholds), a rule that
fired (one the viewer may see), targeted or not (a target the viewer may see on the subject), port.
Pages are read without counting the whole set (``PAGE_SIZE + 1`` rows tell whether there is a next
page): on a national centre the assessments run into millions and a count would cost more than the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from apps.agencies.models import Port
from apps.agencies.operations import check
from apps.core.errors import id_or_none
from apps.risk.models import Assessment, Hit, RiskSettings, Rule, risk_area_choices

__all__ = ["BANDS", "PAGE_SIZE", "AssessmentFilters", "AssessmentPage", "filter_assessments", "page_of"]

PAGE_SIZE = 50
#: Score bands by the engine's thresholds (``RiskSettings``): below yellow, yellow to red, red and above.
BANDS = (("low", "Low (green)"), ("medium", "Medium (yellow)"), ("high", "High (red)"))


@dataclass
class AssessmentFilters:
    """The filters as read from the query string, cleaned; ``errors`` names a field that was ignored."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    area: str = ""
    band: str = ""
    rule: Rule | None = None
    targeted: str = ""  # "yes", "no" or "" (either)
    port: Port | None = None
    errors: list[str] = field(default_factory=list)

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters, for the pager's links and the form's values."""
        return {
            k: v
            for k, v in {
                "from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else "",
                "area": self.area,
                "band": self.band,
                "rule": str(self.rule.pk) if self.rule else "",
                "targeted": self.targeted,
                "port": self.port.locode if self.port else "",
            }.items()
            if v
        }


def _date(params: Any, name: str, label: str, errors: list[str]) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None:
        errors.append(f"The {label} date “{raw}” is not a date (field “{name}”, e.g. 2026-03-01); ignored.")
    return value


def read_filters(user: Any, params: Any) -> AssessmentFilters:
    """Clean the query string; a rule or port the viewer may not see is ignored as if not given."""
    errors: list[str] = []
    found = AssessmentFilters(
        date_from=_date(params, "from", "from", errors),
        date_to=_date(params, "to", "to", errors),
        errors=errors,
    )
    area = params.get("area", "")
    found.area = area if area in dict(risk_area_choices()) else ""
    band = params.get("band", "")
    found.band = band if band in dict(BANDS) else ""
    targeted = params.get("targeted", "")
    found.targeted = targeted if targeted in {"yes", "no"} else ""
    rule_pk = id_or_none(params.get("rule"))
    if rule_pk is not None:
        found.rule = Rule.objects.visible_to(user).filter(pk=rule_pk).first()
    locode = (params.get("port") or "").strip().upper()
    if locode:
        found.port = Port.objects.visible_to(user).filter(locode=locode).first()
    return found


def filter_assessments(user: Any, filters: AssessmentFilters) -> QuerySet[Assessment]:
    """The viewer's assessments under ``filters``, newest first (``rule.view``, as the assessment page)."""
    from apps.targeting.models import Target

    check(user, "rule.view")
    rows = Assessment.objects.visible_to(user)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        rows = rows.filter(created_at__gte=dt.datetime.combine(filters.date_from, dt.time.min, tz))
    if filters.date_to:
        rows = rows.filter(
            created_at__lt=dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min, tz)
        )
    if filters.area:
        rows = rows.filter(risk_area=filters.area)
    if filters.band:
        settings = RiskSettings.current()
        if filters.band == "low":
            rows = rows.filter(score__lt=settings.yellow_threshold)
        elif filters.band == "medium":
            rows = rows.filter(score__gte=settings.yellow_threshold, score__lt=settings.red_threshold)
        else:
            rows = rows.filter(score__gte=settings.red_threshold)
    if filters.rule is not None:
        rows = rows.filter(
            Exists(Hit.objects.filter(assessment=OuterRef("pk"), rule=filters.rule, shadow=False))
        )
    if filters.port is not None:
        rows = rows.filter(subject__port=filters.port)
    if filters.targeted:
        # Only targets the viewer may see count: another agency's target on the subject is not his to know.
        targeted = Exists(Target.objects.visible_to(user).filter(subject_id=OuterRef("subject_id")))
        rows = rows.filter(targeted if filters.targeted == "yes" else ~targeted)
    return rows.select_related("subject", "subject__port", "subject__source").order_by("-created_at", "-pk")


@dataclass
class AssessmentPage:
    """One page of rows, and whether there are pages before and after it."""

    rows: list[Assessment]
    number: int
    has_previous: bool
    has_next: bool

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def page_of(rows: QuerySet[Assessment], page: Any, per_page: int = PAGE_SIZE) -> AssessmentPage:
    """Page ``page`` (1-based; anything else is 1) without counting the set."""
    number = id_or_none(page) or 1
    number = max(1, min(number, 10_000))
    start = (number - 1) * per_page
    found = list(rows[start : start + per_page + 1])
    return AssessmentPage(found[:per_page], number, number > 1, len(found) > per_page)
