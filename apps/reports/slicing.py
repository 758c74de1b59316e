# ruff: noqa: RUF001 - typographic dashes are meant for readers
"""The slice a report is asked for: a period and optional port, agency, risk area, channel, officer, rule.

A :class:`Slice` is a plain value: measures read it, the filter form builds it from a query string, and
exports and the PDF carry it in their URL, so every table and picture of one report shows one slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone


def optional_model(app_label: str, model_name: str) -> type[Any] | None:
    """A model of another capability (looked up by name, so typed loosely), or None while that capability
    is not installed yet.

    Measures that need it answer ``None`` (shown as "not available") instead of failing, so the report
    keeps working on an installation without, say, frontline examinations.
    """
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


@dataclass(frozen=True, slots=True)
class Slice:
    """A period ``[start, end]`` (whole UTC days, both included) and what it is narrowed to."""

    start: date
    end: date
    port_id: int | None = None
    agency_id: int | None = None
    risk_area: str = ""
    channel: str = ""
    officer_id: int | None = None
    rule_id: int | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def last_days(cls, days: int = 30, *, today: date | None = None, **kwargs: Any) -> Slice:
        """The ``days`` days ending today (UTC)."""
        today = today or timezone.now().astimezone(UTC).date()
        return cls(start=today - timedelta(days=days - 1), end=today, **kwargs)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        """The first moment of the period (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period (UTC): ranges are ``since <= t < until``."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def previous(self) -> Slice:
        """The period of the same length just before this one, with the same narrowing."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    @property
    def subject_level(self) -> bool:
        """Whether subject-level figures (arrivals, release) can follow this slice.

        An officer or a rule narrows examinations and targets; arrivals are not "by officer" or "by rule".
        """
        return self.officer_id is None and self.rule_id is None

    def describe(self) -> str:
        """The slice in words, for headings, exports and the PDF."""
        parts = [f"{self.start:%d %b %Y} – {self.end:%d %b %Y} ({self.days} days)"]
        for key in ("port", "agency", "risk_area", "channel", "officer", "rule"):
            if self.labels.get(key):
                parts.append(f"{key.replace('_', ' ')}: {self.labels[key]}")
        return "; ".join(parts)

    def query(self) -> dict[str, str]:
        """The slice as query-string parameters (the filter form's names)."""
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for key, value in (
            ("port", self.port_id),
            ("agency", self.agency_id),
            ("risk_area", self.risk_area),
            ("channel", self.channel),
            ("officer", self.officer_id),
            ("rule", self.rule_id),
        ):
            if value:
                params[key] = str(value)
        return params
