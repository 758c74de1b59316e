# ruff: noqa: RUF002 - typographic dashes, minus and times signs are meant for readers
"""The effectiveness ledger: how well each rule version, watchlist and model version selects.

For each selector, over the slice's period:

- **hits**: for a rule version, the times it fired in an assessment (``risk.Hit``; shadow versions
  apart); for a watchlist or a model version, the targets nominated that cite it among their reasons.
- **examinations** and **findings**: the examinations of targets it caused, from the frontline
  feedback rows (``frontline.ExaminationFeedback``, one per examination and cause, kept in step with
  corrections), counted on the day the examination ended.
- **precision** = findings ÷ examinations.
- **lift** = precision ÷ the random-control hit rate of the same slice (findings ÷ examinations of
  targets drawn by random control): how many times better than chance the selector finds.
- **95 % confidence interval of lift**: the ratio of two proportions with the log-normal (Katz)
  interval, ``exp(ln(lift) ± 1.96 · √(1/a − 1/n₁ + 1/c − 1/n₀))`` where ``a`` of ``n₁`` are the
  selector's findings and ``c`` of ``n₀`` the random control's. When ``a`` or ``c`` is 0 the interval is
  computed with 0.5 added to every cell (Haldane–Anscombe) and marked as such; with no random-control
  examinations there is no lift.

Flags for review (rules): **silent** when an active rule has had no finding in ``SILENT_DAYS`` (or
none ever, once it has been live that long); **falling** when its precision in the period is below the
previous period's by a one-sided two-proportion z-test at 5 % (each period needing at least
``MIN_EXAMS`` examinations); **review due** when no annual review is recorded in the last 365 days.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet

from apps.reports.direct import targets
from apps.reports.models import RuleReview
from apps.reports.slicing import Slice, optional_model

Z95 = 1.959963984540054
Z_ONE_SIDED_5 = 1.6448536269514722
SILENT_DAYS = 180
REVIEW_DAYS = 365
MIN_EXAMS = 5
RULE_REF = re.compile(r"^rule:(\d+)@v(\d+)$")


@dataclass(frozen=True, slots=True)
class Lift:
    """Lift over random control with its 95 % interval (``corrected``: the 0.5 cell correction was used)."""

    value: float | None
    low: float | None
    high: float | None
    corrected: bool = False


def katz_lift(findings: int, exams: int, base_findings: int, base_exams: int, z: float = Z95) -> Lift:
    """Ratio of two proportions ``(a/n1) / (c/n0)`` with the Katz log-normal interval (see module)."""
    a, n1, c, n0 = findings, exams, base_findings, base_exams
    if n1 <= 0 or n0 <= 0:
        return Lift(None, None, None)
    value = (a / n1) / (c / n0) if c > 0 else None
    corrected = a == 0 or c == 0
    if corrected:
        a, c, n1, n0 = a + 0.5, c + 0.5, n1 + 1, n0 + 1
    ratio = (a / n1) / (c / n0)
    se = math.sqrt(max(0.0, 1 / a - 1 / n1 + 1 / c - 1 / n0))
    low, high = ratio * math.exp(-z * se), ratio * math.exp(z * se)
    return Lift(value, low, high, corrected)


def precision_falling(f_now: int, n_now: int, f_before: int, n_before: int) -> bool:
    """One-sided two-proportion z-test at 5 %: is precision now lower than before?"""
    if n_now < MIN_EXAMS or n_before < MIN_EXAMS:
        return False
    pooled = (f_now + f_before) / (n_now + n_before)
    if pooled in (0, 1):
        return False
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_now + 1 / n_before))
    return (f_now / n_now - f_before / n_before) / se < -Z_ONE_SIDED_5


@dataclass
class LedgerRow:
    """One selector's line in the ledger."""

    kind: str  # rule | rule_shadow | watchlist | model
    key: str
    name: str
    version: str
    owner: str = ""
    state: str = ""
    hits: int = 0
    examinations: int = 0
    findings: int = 0
    lift: Lift = field(default_factory=lambda: Lift(None, None, None))
    flags: list[str] = field(default_factory=list)
    rule_id: int | None = None

    @property
    def precision(self) -> float | None:
        return self.findings / self.examinations if self.examinations else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "hits": self.hits,
            "examinations": self.examinations,
            "findings": self.findings,
            "precision": self.precision,
            "lift": self.lift.value,
            "lift_low": self.lift.low,
            "lift_high": self.lift.high,
            "flags": "; ".join(self.flags),
        }


@dataclass
class Ledger:
    rows: list[LedgerRow]
    base_exams: int
    base_findings: int

    @property
    def base_rate(self) -> float | None:
        return self.base_findings / self.base_exams if self.base_exams else None

    @property
    def flagged(self) -> list[LedgerRow]:
        return [r for r in self.rows if r.flags]


def feedback(user: Any, s: Slice) -> QuerySet | None:
    """Feedback rows of examinations ended in the period, of targets in the slice."""
    model = optional_model("frontline", "ExaminationFeedback")
    if model is None:
        return None
    qs = model.objects.visible_to(user).filter(
        examined_at__gte=s.since, examined_at__lt=s.until, target__in=targets(user, s).values("pk")
    )
    if s.officer_id:
        qs = qs.filter(Q(examination__recorded_by_id=s.officer_id))
    return qs


def _counts(user: Any, s: Slice) -> dict[tuple[str, str], tuple[int, int]]:
    rows = feedback(user, s)
    if rows is None:
        return {}
    grouped = (
        rows.order_by().values("kind", "ref").annotate(n=Count("pk"), f=Count("pk", filter=Q(finding=True)))
    )
    return {(r["kind"], r["ref"]): (r["n"], r["f"]) for r in grouped}


def _cited(user: Any, s: Slice) -> dict[tuple[str, str], int]:
    """Targets nominated in the period per (reason kind, reference): the hits of watchlists and models."""
    cited: dict[tuple[str, str], int] = defaultdict(int)
    rows = (
        targets(user, s)
        .filter(created_at__gte=s.since, created_at__lt=s.until)
        .values_list("reasons", flat=True)
    )
    for reasons in rows.iterator(chunk_size=2000):
        for ref in {(r.get("kind"), str(r.get("ref") or "")) for r in reasons or [] if isinstance(r, dict)}:
            if ref[0] in {"watchlist", "model"} and ref[1]:
                cited[ref] += 1
    return cited


def ledger(user: Any, s: Slice, *, flags: bool = True) -> Ledger:
    """The ledger of every selector visible to the user that was live, fired or was examined in the slice."""
    counts = _counts(user, s)
    base_n, base_f = counts.get(("random", "random"), (0, 0))
    rows: list[LedgerRow] = []
    rows += _rule_rows(user, s, counts)
    rows += _watchlist_rows(user, s, counts)
    rows += _model_rows(user, s, counts)
    for row in rows:
        row.lift = katz_lift(row.findings, row.examinations, base_f, base_n)
    if flags:
        _flag_rules(user, s, [r for r in rows if r.kind == "rule"])
    return Ledger(rows=rows, base_exams=base_n, base_findings=base_f)


def _rule_rows(user: Any, s: Slice, counts: dict[tuple[str, str], tuple[int, int]]) -> list[LedgerRow]:
    version_model, hit_model = optional_model("risk", "RuleVersion"), optional_model("risk", "Hit")
    if version_model is None or hit_model is None:
        return []
    versions = version_model.objects.visible_to(user).select_related("rule", "rule__owner_agency")
    if s.rule_id:
        versions = versions.filter(rule_id=s.rule_id)
    hits = (
        hit_model.objects.visible_to(user)
        .filter(created_at__gte=s.since, created_at__lt=s.until, rule_version__in=versions.values("pk"))
        .order_by()
        .values("rule_version_id", "shadow")
        .annotate(n=Count("pk"))
    )
    hit_counts = {(h["rule_version_id"], h["shadow"]): h["n"] for h in hits}
    wanted: set[tuple[int, int]] = set()
    for kind, ref in counts:
        match = RULE_REF.match(ref)
        if kind in {"rule", "rule_shadow"} and match:
            wanted.add((int(match[1]), int(match[2])))
    hit_version_ids = {v for v, _ in hit_counts}
    rows = []
    for version in versions.filter(Q(pk__in=hit_version_ids) | Q(rule__live_version_id=F("pk"))):
        wanted.discard((version.rule_id, version.number))
        rows += _rule_version_rows(version, counts, hit_counts)
    if wanted:
        by_key = Q()
        for rule_id, number in wanted:
            by_key |= Q(rule_id=rule_id, number=number)
        for version in versions.filter(by_key):
            rows += _rule_version_rows(version, counts, hit_counts)
    return sorted(rows, key=lambda r: (r.name.lower(), r.version, r.kind))


def _rule_version_rows(version: Any, counts: dict, hit_counts: dict) -> list[LedgerRow]:
    ref = f"rule:{version.rule_id}@v{version.number}"
    rows = []
    for kind, shadow in (("rule", False), ("rule_shadow", True)):
        n, f = counts.get((kind, ref), (0, 0))
        hits = hit_counts.get((version.pk, shadow), 0)
        if shadow and not (n or hits):
            continue
        rows.append(
            LedgerRow(
                kind=kind,
                key=ref,
                name=version.rule.name,
                version=f"v{version.number}",
                owner=version.rule.owner_agency.code,
                state=version.rule.get_state_display() if not shadow else "Shadow",
                hits=hits,
                examinations=n,
                findings=f,
                rule_id=version.rule_id,
            )
        )
    return rows


def _watchlist_rows(user: Any, s: Slice, counts: dict[tuple[str, str], tuple[int, int]]) -> list[LedgerRow]:
    entry_model = optional_model("watchlists", "WatchlistEntry")
    watchlist_model = optional_model("watchlists", "Watchlist")
    if entry_model is None or watchlist_model is None or s.rule_id:
        return []
    cited = _cited(user, s)
    entry_ids: dict[int, tuple[int, int, int]] = {}
    for (kind, ref), (n, f) in counts.items():
        if kind == "watchlist" and ref.startswith("watchlist-entry:") and ref[16:].isdigit():
            entry_ids[int(ref[16:])] = (n, f, 0)
    for (kind, ref), hits in cited.items():
        if kind == "watchlist" and ref.startswith("watchlist-entry:") and ref[16:].isdigit():
            n, f, _ = entry_ids.get(int(ref[16:]), (0, 0, 0))
            entry_ids[int(ref[16:])] = (n, f, hits)
    list_of = dict(
        entry_model.objects.visible_to(user).filter(pk__in=entry_ids).values_list("pk", "watchlist_id")
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry_id, (n, f, hits) in entry_ids.items():
        if entry_id in list_of:
            t = totals[list_of[entry_id]]
            t[0], t[1], t[2] = t[0] + n, t[1] + f, t[2] + hits
    lists = watchlist_model.objects.visible_to(user).filter(pk__in=totals).select_related("owner_agency")
    return [
        LedgerRow(
            kind="watchlist",
            key=f"watchlist:{w.pk}",
            name=w.name,
            version=f"list v{w.version}",
            owner=w.owner_agency.code,
            state="",
            hits=totals[w.pk][2],
            examinations=totals[w.pk][0],
            findings=totals[w.pk][1],
        )
        for w in sorted(lists, key=lambda w: w.name.lower())
    ]


def _model_rows(user: Any, s: Slice, counts: dict[tuple[str, str], tuple[int, int]]) -> list[LedgerRow]:
    model = optional_model("learning", "ModelVersion")
    if model is None or s.rule_id:
        return []
    cited = _cited(user, s)
    ids: set[int] = set()
    for kind, ref in list(counts) + list(cited):
        if kind == "model" and ref.startswith("model:") and ref[6:].isdigit():
            ids.add(int(ref[6:]))
    versions = (
        model.objects.visible_to(user)
        .filter(Q(pk__in=ids) | Q(status="active"))
        .select_related("owner_agency")
    )
    rows = []
    for v in versions:
        ref = f"model:{v.pk}"
        n, f = counts.get(("model", ref), (0, 0))
        rows.append(
            LedgerRow(
                kind="model",
                key=ref,
                name="Risk model",
                version=f"v{v.number}",
                owner=v.owner_agency.code,
                state=v.get_status_display(),
                hits=cited.get(("model", ref), 0),
                examinations=n,
                findings=f,
            )
        )
    return rows


def _flag_rules(user: Any, s: Slice, rows: list[LedgerRow]) -> None:
    """Silent, falling and review-due flags (see module docstring) on the rule rows."""
    if not rows:
        return
    rule_model = optional_model("risk", "Rule")
    fb_model = optional_model("frontline", "ExaminationFeedback")
    rule_ids = {r.rule_id for r in rows}
    rules = {r.pk: r for r in rule_model.objects.filter(pk__in=rule_ids).select_related("live_version")}
    before = _counts(user, s.previous())
    silent_since = s.until - timedelta(days=SILENT_DAYS)
    last_finding: dict[int, Any] = {}
    if fb_model is not None:
        found = (
            fb_model.objects.visible_to(user)
            .filter(kind="rule", finding=True, examined_at__lt=s.until)
            .order_by()
            .values("ref")
            .annotate(last=Max("examined_at"))
        )
        for row in found:
            match = RULE_REF.match(row["ref"])
            if match:
                rid = int(match[1])
                last_finding[rid] = max(last_finding.get(rid, row["last"]), row["last"])
    reviewed = dict(
        RuleReview.objects.visible_to(user)
        .filter(rule_id__in=rule_ids)
        .order_by()
        .values("rule_id")
        .annotate(last=Max("reviewed_on"))
        .values_list("rule_id", "last")
    )
    for row in rows:
        rule = rules.get(row.rule_id)
        if rule is None:
            continue
        live = rule.state == "active"
        if live and rule.live_version_id and row.version == f"v{rule.live_version.number}":
            last = last_finding.get(rule.pk)
            if (last is None and rule.created_at <= silent_since) or (
                last is not None and last < silent_since
            ):
                row.flags.append(f"No finding in {SILENT_DAYS} days")
        n_before, f_before = before.get(("rule", row.key), (0, 0))
        if precision_falling(row.findings, row.examinations, f_before, n_before):
            row.flags.append("Precision falling")
        last_review = reviewed.get(rule.pk)
        if rule.state in {"active", "shadow"} and (
            last_review is None or last_review < s.end - timedelta(days=REVIEW_DAYS)
        ):
            row.flags.append("Annual review due")


def rule_ledger(user: Any, s: Slice, rule_id: int) -> list[LedgerRow]:
    """The ledger rows of one rule's versions."""
    from dataclasses import replace

    return [r for r in ledger(user, replace(s, rule_id=rule_id)).rows if r.rule_id == rule_id]
