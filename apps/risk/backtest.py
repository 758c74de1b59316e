"""The rule lab: run a rule version over a period of history and see what it would have done.

A backtest reads the subjects of the version's kind that arrived (or, without an arrival, were
received) in the period and that the requester may see, in chunks, and records for the tested version
and the compared one: hits (each a potential examination), hits per port and per day, and precision on
subjects whose examination result is known (``intake.Outcome``), with lift over the base rate. The base
rate is the finding rate of random-control outcomes when there are at least
:data:`MIN_RANDOM_OUTCOMES` of them (unbiased), else of all known outcomes (biased towards what was
targeted; the page says which).

Validity dates are not applied (the lab asks "what if this rule had run then"); port scope is.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.agencies.operations import check
from apps.core.errors import scrub_paths
from apps.intake.models import Outcome, Subject
from apps.risk.evaluate import build_frame
from apps.risk.models import Backtest, RiskSettings, Rule, RuleVersion
from apps.risk.rules import LiveRule, frame_fields

__all__ = ["run_backtest", "start_backtest"]

logger = logging.getLogger(__name__)

CHUNK = 20_000
MIN_RANDOM_OUTCOMES = 30
MAX_DAYS = 5 * 366


def default_compare(version: RuleVersion) -> RuleVersion | None:
    """What a version replaces: the rule's running version, else the version before it."""
    rule = version.rule
    if rule.live_version_id and rule.live_version_id != version.pk:
        return rule.live_version
    return rule.versions.filter(number__lt=version.number).order_by("-number").first()


def start_backtest(
    *,
    actor: User,
    rule: Rule,
    period_start: dt.date,
    period_end: dt.date,
    version: RuleVersion | None = None,
    compare_version: RuleVersion | None = None,
    compare_default: bool = True,
) -> Backtest:
    """Queue a backtest of ``version`` (the rule's latest by default) against ``compare_version``.

    Without a compared version, the rule's running version (or its previous one) is used unless
    ``compare_default`` is false. The compared version may belong to another rule the actor can see,
    of the same subject kind.
    """
    from apps.risk.tasks import run_backtest_task

    check(actor, "rule.backtest", rule)
    version = version or rule.versions.latest("number")  # every rule has its first version
    if version.rule_id != rule.pk:
        raise ValidationError({"version": "That version is not of this rule."})
    if compare_version is not None:
        check(actor, "rule.view", compare_version.rule)
        if compare_version.subject_kind != version.subject_kind:
            raise ValidationError({"compare_version": "Compare with a rule for the same kind of subject."})
    elif compare_default:
        compare_version = default_compare(version)
    if period_start > period_end:
        raise ValidationError({"period_end": "The period ends before it starts."})
    if (period_end - period_start).days > MAX_DAYS:
        raise ValidationError({"period_end": "Backtest at most five years at once."})
    with transaction.atomic():
        backtest = Backtest.objects.create(
            owner_agency_id=rule.owner_agency_id,
            rule=rule,
            version=version,
            compare_version=compare_version,
            period_start=period_start,
            period_end=period_end,
            requested_by=actor,
        )
        transaction.on_commit(lambda: run_backtest_task.delay(backtest.pk))
    return backtest


def _subjects(backtest: Backtest):
    start = dt.datetime.combine(backtest.period_start, dt.time(), dt.UTC)
    end = dt.datetime.combine(backtest.period_end + dt.timedelta(days=1), dt.time(), dt.UTC)
    in_period = Q(arrival_at__gte=start, arrival_at__lt=end) | Q(
        arrival_at__isnull=True, received_at__gte=start, received_at__lt=end
    )
    return (
        Subject.objects.visible_to(backtest.requested_by)
        .filter(in_period, kind=backtest.version.subject_kind, status=Subject.Status.CURRENT)
        .order_by("pk")
    )


class _Tally:
    """Counts for one version over the whole run."""

    def __init__(self) -> None:
        self.hits = 0
        self.by_port: Counter[str] = Counter()
        self.by_day: Counter[str] = Counter()
        self.known = 0
        self.findings = 0

    def add(
        self, mask: np.ndarray, ports: np.ndarray, days: np.ndarray, known: np.ndarray, finding: np.ndarray
    ) -> None:
        self.hits += int(mask.sum())
        self.by_port.update(ports[mask].tolist())
        self.by_day.update(days[mask].tolist())
        self.known += int((mask & known).sum())
        self.findings += int((mask & finding).sum())

    def result(
        self, subjects: int, days: int, base_rate: float | None, weight: int, threshold: float
    ) -> dict[str, Any]:
        precision = self.findings / self.known if self.known else None
        return {
            "hits": self.hits,
            "hit_share": self.hits / subjects if subjects else 0.0,
            "examinations": self.hits,
            "examinations_per_day": self.hits / days if days else 0.0,
            "alone_nominates": weight >= threshold,
            "by_port": dict(self.by_port.most_common()),
            "by_day": dict(sorted(self.by_day.items())),
            "known": self.known,
            "findings": self.findings,
            "precision": precision,
            "lift": precision / base_rate if precision is not None and base_rate else None,
        }


def run_backtest(backtest_id: int) -> Backtest | None:
    """Do the work of one queued backtest; a backtest another worker already claimed is left alone."""
    claimed = Backtest.objects.filter(pk=backtest_id, status=Backtest.Status.QUEUED).update(
        status=Backtest.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return None
    backtest = Backtest.objects.select_related("version__rule", "compare_version__rule", "requested_by").get(
        pk=backtest_id
    )
    try:
        _run(backtest)
    except Exception as exc:
        logger.exception("Backtest %s failed", backtest_id)
        Backtest.objects.filter(pk=backtest_id).update(
            status=Backtest.Status.FAILED,
            error=scrub_paths(f"{type(exc).__name__}: {exc}"),
            finished_at=timezone.now(),
        )
    backtest.refresh_from_db()
    return backtest


def _run(backtest: Backtest) -> None:
    """Evaluate the rule version (and the one compared) on the period's subjects, chunk by chunk, and
    store the tallies against the known outcomes."""
    tested = LiveRule.of(backtest.version, shadow=True, check_validity=False)
    compared = (
        LiveRule.of(backtest.compare_version, shadow=True, check_validity=False)
        if backtest.compare_version is not None
        else None
    )
    rules = [tested] + ([compared] if compared else [])
    kind = backtest.version.subject_kind
    subjects = _subjects(backtest)
    total = subjects.count()
    Backtest.objects.filter(pk=backtest.pk).update(progress_total=total, progress_done=0)
    tallies = {"tested": _Tally(), "compared": _Tally()}
    overlap: Counter[str] = Counter()
    base: Counter[str] = Counter()
    done, last_pk = 0, 0
    while True:
        rows = list(
            subjects.filter(pk__gt=last_pk).values_list(
                "pk", "port__locode", "arrival_at", "received_at", "facts"
            )[:CHUNK]
        )
        if not rows:
            break
        last_pk = rows[-1][0]
        known, finding = _known_outcomes([r[0] for r in rows], base)
        frame = build_frame(kind, ((r[4], r[1], r[2], r[3]) for r in rows), frame_fields(rules))
        ports, days = _ports_and_days(frame)
        hit_tested = tested.fires(frame)
        tallies["tested"].add(hit_tested, ports, days, known, finding)
        if compared is not None:
            hit_compared = compared.fires(frame)
            tallies["compared"].add(hit_compared, ports, days, known, finding)
            overlap["both"] += int((hit_tested & hit_compared).sum())
            overlap["only_tested"] += int((hit_tested & ~hit_compared).sum())
            overlap["only_compared"] += int((~hit_tested & hit_compared).sum())
        done += len(rows)
        Backtest.objects.filter(pk=backtest.pk).update(progress_done=done)
    days_in_period = (backtest.period_end - backtest.period_start).days + 1
    base_rate, base_source = _base_rate(base)
    threshold = RiskSettings.current().nomination_threshold
    results: dict[str, Any] = {
        "subjects": total,
        "days": days_in_period,
        "base": {**base, "rate": base_rate, "source": base_source},
        "tested": tallies["tested"].result(
            total, days_in_period, base_rate, tested.version.weight, threshold
        ),
        "compared": (
            tallies["compared"].result(total, days_in_period, base_rate, compared.version.weight, threshold)
            if compared
            else None
        ),
        "overlap": dict(overlap) if compared else None,
    }
    Backtest.objects.filter(pk=backtest.pk).update(
        status=Backtest.Status.DONE, results=results, progress_done=total, finished_at=timezone.now()
    )


def _known_outcomes(ids: list[int], base: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which subjects of the chunk have a known outcome and which a finding; adds them to ``base``."""
    known_ids, finding_ids, random_ids, random_finding_ids = set(), set(), set(), set()
    for subject_id, found, random_control in Outcome.objects.filter(subject_id__in=ids).values_list(
        "subject_id", "finding", "random_control"
    ):
        known_ids.add(subject_id)
        if found:
            finding_ids.add(subject_id)
        if random_control:
            random_ids.add(subject_id)
            if found:
                random_finding_ids.add(subject_id)
    known = np.fromiter((i in known_ids for i in ids), bool, len(ids))
    finding = np.fromiter((i in finding_ids for i in ids), bool, len(ids))
    base["known"] += int(known.sum())
    base["findings"] += int(finding.sum())
    base["random_known"] += len(random_ids)
    base["random_findings"] += len(random_finding_ids)
    return known, finding


def _ports_and_days(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's port and day (of arrival, else of receipt) for the tallies, "—" when unknown."""
    ports = frame["port"].astype(object).fillna("—").to_numpy()
    arrival = frame["arrival_at"].to_numpy(dtype="float64")
    moment = np.where(np.isnan(arrival), frame["received_at"].to_numpy(dtype="float64"), arrival)
    days = pd.to_datetime(pd.Series(moment * 1e9), utc=True).dt.strftime("%Y-%m-%d").fillna("—").to_numpy()
    return ports, days


def _base_rate(base: Counter[str]) -> tuple[float | None, str]:
    """The finding rate the lift is measured against, from random control when it has enough outcomes."""
    if base["random_known"] >= MIN_RANDOM_OUTCOMES:
        return base["random_findings"] / base["random_known"], "random control"
    if base["known"]:
        return base["findings"] / base["known"], "all examinations (biased by targeting)"
    return None, "no known outcomes"
