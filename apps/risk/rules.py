"""Running rules: which versions are live, their compiled evaluators, and the rules provider.

A rule version fires on a subject when the subject is of the version's kind, is routed to one of its
ports (or the version is national), its reference day (arrival, else receipt) is within the validity
dates, and the condition holds. Shadow rules are evaluated exactly like active ones; their components
are marked ``shadow`` and never count.

Two paths give the same answers: small batches (a single assessment) go subject by subject; larger
ones build one DataFrame per subject kind and evaluate each rule over it at once.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apps.risk.evaluate import Evaluator, build_frame, typed_facts
from apps.risk.fields import DERIVED
from apps.risk.providers import Component

if TYPE_CHECKING:
    from apps.intake.models import Subject
    from apps.risk.models import RuleVersion

__all__ = ["VECTOR_MIN", "LiveRule", "evaluate_frame", "evaluator_for", "live_rules", "provider"]

#: From this many subjects of one kind up, the batch is evaluated as one frame.
VECTOR_MIN = 32
_DAY = 86400.0
_EVALUATORS: dict[tuple[int, str, str], Evaluator] = {}


def evaluator_for(version: RuleVersion) -> Evaluator:
    """The compiled condition of a version; cached, since versions never change.

    The key includes the condition itself, so a primary key reused (a test database, a restore) never
    finds another rule's evaluator.
    """
    key = (version.pk, version.subject_kind, json.dumps(version.condition, sort_keys=True))
    evaluator = _EVALUATORS.get(key)
    if evaluator is None:
        if len(_EVALUATORS) > 10_000:
            _EVALUATORS.clear()
        evaluator = _EVALUATORS[key] = Evaluator(version.condition, version.subject_kind)
    return evaluator


def _epoch(day: dt.date | None, *, end: bool = False) -> float:
    if day is None:
        return math.inf if end else -math.inf
    start = dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()
    return start + _DAY if end else start


@dataclass(slots=True)
class LiveRule:
    """A rule version the engine runs, with what the scope and validity checks need."""

    version: RuleVersion
    name: str
    shadow: bool
    evaluator: Evaluator
    ports: frozenset[str] = field(default_factory=frozenset)
    valid_from: float = -math.inf
    valid_until: float = math.inf  # exclusive: the start of the day after valid_to
    check_validity: bool = True
    officer_text: str = ""  # the rule's plain line for officers (``Rule.officer_text``)

    @classmethod
    def of(
        cls,
        version: RuleVersion,
        *,
        shadow: bool,
        name: str = "",
        check_validity: bool = True,
        officer_text: str = "",
    ) -> LiveRule:
        return cls(
            version=version,
            name=name or version.rule.name,
            shadow=shadow,
            evaluator=evaluator_for(version),
            ports=frozenset(p.upper() for p in version.ports),
            valid_from=_epoch(version.valid_from),
            valid_until=_epoch(version.valid_to, end=True),
            check_validity=check_validity,
            officer_text=officer_text,
        )

    @property
    def fields(self) -> list[str]:
        return self.evaluator.fields

    def applies_one(self, typed: dict[str, Any]) -> bool:
        """Scope and validity for one subject (typed facts)."""
        if self.ports and typed.get("port") not in self.ports:
            return False
        if self.check_validity:
            moment = typed.get("arrival_at", math.nan)
            if math.isnan(moment):
                moment = typed.get("received_at", math.nan)
            if not math.isnan(moment) and not self.valid_from <= moment < self.valid_until:
                return False
        return True

    def fires_one(self, typed: dict[str, Any]) -> bool:
        return self.applies_one(typed) and self.evaluator.one(typed)

    def applies(self, frame: pd.DataFrame) -> np.ndarray:
        """Scope and validity over a frame (the same rules as :meth:`applies_one`)."""
        mask = np.ones(len(frame), dtype=bool)
        if self.ports:
            ports = frame["port"]
            per_category = np.fromiter((c in self.ports for c in ports.cat.categories), bool)
            mask &= np.append(per_category, False)[ports.cat.codes.to_numpy()]
        if self.check_validity and (self.valid_from > -math.inf or self.valid_until < math.inf):
            arrival = frame["arrival_at"].to_numpy(dtype="float64")
            moment = np.where(np.isnan(arrival), frame["received_at"].to_numpy(dtype="float64"), arrival)
            mask &= np.isnan(moment) | ((moment >= self.valid_from) & (moment < self.valid_until))
        return mask

    def fires(self, frame: pd.DataFrame) -> np.ndarray:
        mask = self.applies(frame)
        if not mask.any():
            return mask
        return mask & self.evaluator(frame)


def live_rules(kinds: Iterable[str] | None = None) -> list[LiveRule]:
    """The versions the engine runs now: the live version of every shadow and active rule."""
    from apps.risk.models import Rule, RuleState

    rules = Rule.objects.filter(state__in=[RuleState.SHADOW, RuleState.ACTIVE], live_version__isnull=False)
    if kinds is not None:
        rules = rules.filter(live_version__subject_kind__in=list(kinds))
    return [
        LiveRule.of(
            rule.live_version,
            shadow=rule.state == RuleState.SHADOW,
            name=rule.name,
            officer_text=rule.officer_text,
        )
        for rule in rules.select_related("live_version").order_by("pk")
        if rule.live_version is not None  # always: filtered on live_version__isnull=False
    ]


def frame_fields(rules: Sequence[LiveRule]) -> set[str]:
    """The columns a frame needs for these rules (what they read, plus scope and validity)."""
    needed = {"port", "arrival_at", "received_at"}
    for rule in rules:
        needed.update(rule.fields)
    return needed


def evaluate_frame(rules: Sequence[LiveRule], frame: pd.DataFrame) -> dict[int, np.ndarray]:
    """Version id → boolean array of the rows each rule fires on."""
    return {rule.version.pk: rule.fires(frame) for rule in rules}


def _matched(rule: LiveRule, subject: Subject, typed: dict[str, Any], kind: str) -> dict[str, Any]:
    """The facts the rule read, as the subject had them (derived facts as computed)."""
    out: dict[str, Any] = {}
    for name in rule.fields:
        if name == "port":
            out[name] = subject.port.locode if subject.port is not None else None
        elif name in {"arrival_at", "received_at"}:
            moment = getattr(subject, name)
            out[name] = moment.isoformat() if moment else None
        elif name in DERIVED[kind]:
            value = typed.get(name)
            out[name] = (
                None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 4)
            )
        else:
            out[name] = subject.facts.get(name)
    return out


def _component(rule: LiveRule, matched: dict[str, Any]) -> Component:
    from apps.risk.models import Rule

    version = rule.version
    scope = "national" if not rule.ports else ", ".join(sorted(rule.ports))
    return Component(
        kind="rule",
        ref=version.ref,
        score=float(version.weight),
        risk_area=version.risk_area,
        label=f"{rule.name} (v{version.number})",
        scope="port" if rule.ports else "national",
        explanation=f"Rule “{rule.name}” v{version.number} ({scope}) matched: {version.text}",
        # The condition names what is watched (``importer_id in (...)``): who may not read it reads this.
        plain=Rule.plain_line(rule.name, rule.officer_text),
        shadow=rule.shadow,
        details={
            "matched": matched,
            "rule_id": version.rule_id,
            "version": version.number,
            "weight": version.weight,
        },
        rule_version_id=version.pk,
    )


def _record(subject: Subject) -> tuple[dict[str, Any], str | None, Any, Any]:
    return (
        subject.facts,
        subject.port.locode if subject.port is not None else None,
        subject.arrival_at,
        subject.received_at,
    )


def provider(subjects: list[Subject]) -> dict[int, list[Component]]:
    """The rules provider: a component for each live rule version that fires on each subject."""
    by_kind: dict[str, list[Subject]] = defaultdict(list)
    for subject in subjects:
        by_kind[subject.kind].append(subject)
    rules_by_kind: dict[str, list[LiveRule]] = defaultdict(list)
    for rule in live_rules(by_kind):
        rules_by_kind[rule.version.subject_kind].append(rule)
    found: dict[int, list[Component]] = defaultdict(list)
    for kind, group in by_kind.items():
        rules = rules_by_kind.get(kind)
        if not rules:
            continue
        if len(group) < VECTOR_MIN:
            for subject in group:
                typed = typed_facts(kind, *_record(subject))
                for rule in rules:
                    if rule.fires_one(typed):
                        found[subject.pk].append(_component(rule, _matched(rule, subject, typed, kind)))
            continue
        frame = build_frame(kind, (_record(s) for s in group), frame_fields(rules))
        for rule in rules:
            for i in np.flatnonzero(rule.fires(frame)):
                subject = group[i]
                typed = {name: frame[name].iat[i] for name in rule.fields if name in DERIVED[kind]}
                found[subject.pk].append(_component(rule, _matched(rule, subject, typed, kind)))
    return dict(found)
