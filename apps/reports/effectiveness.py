# ruff: noqa: RUF001, RUF002 - typographic dashes, minus and times signs are meant for readers
"""The effectiveness ledger: how well each rule version, watchlist and model version selects.

For each selector, over the slice's period:

- **hits**: for a rule version, the times it fired in an assessment (``risk.Hit``; shadow versions
  apart); for a watchlist or a model version, the targets nominated that cite it among their reasons.
- **examinations** and **findings**: the examinations of targets it caused, from the frontline
  feedback rows (``frontline.ExaminationFeedback``, one per examination and cause, kept in step with
  corrections), counted on the day the examination ended.
- **precision** = findings ÷ examinations.
- **precision** is never compared with a pooled random-control rate: what a selector fires on is not
  spread over subject kinds, ports and risk areas the way random draws are, and violation rates differ
  between them. Every figure of lift is taken within a **stratum** = (subject kind, port, risk area) of
  the examined target.
- **random-control rate of a stratum** (the true violation rate there) = findings ÷ examinations of
  targets drawn by random control (feedback ``kind = "random"``) in that stratum, with the **Wilson**
  95 % interval ``(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) ÷ (1 + z²/n)``.
- A stratum **supports** a lift only with at least ``MIN_RANDOM_EXAMS`` random-control examinations
  and ``MIN_RANDOM_FINDINGS`` finding (both in :mod:`apps.reports.definitions`); otherwise the ledger says "too few random-control examinations
  (n) to measure lift here" and that stratum's examinations stay out of the selector's overall lift
  (counted as "examinations without a baseline").
- **lift in a stratum** k = (a_k/n₁ₖ) ÷ (c_k/n₀ₖ), where ``a_k`` of ``n₁ₖ`` are the selector's findings
  and examinations there and ``c_k`` of ``n₀ₖ`` the random control's, with the log-normal (Katz)
  interval ``exp(ln(lift) ± 1.96 · √(1/a − 1/n₁ + 1/c − 1/n₀))``.
- **overall lift** of a selector = the Mantel–Haenszel ratio over the strata that support a lift,
  ``Σ a_k·n₀ₖ/N_k ÷ Σ c_k·n₁ₖ/N_k`` with ``N_k = n₁ₖ + n₀ₖ`` (a weighted mean of the stratum lifts, each
  weighted by ``c_k·n₁ₖ/N_k``: mostly by where the selector examines), with the 95 % interval
  ``exp(ln(lift) ± 1.96·√V)``, ``V = Σ (n₁ₖ·n₀ₖ·(a_k+c_k)/N_k² − a_k·c_k/N_k) ÷ (Σ a_k·n₀ₖ/N_k ·
  Σ c_k·n₁ₖ/N_k)`` (Greenland–Robins). With one stratum both are exactly the Katz ratio and interval.
- When the selector has no finding (or, in one stratum, a count is 0) the interval is computed with 0.5
  added to every cell (Haldane–Anscombe) and marked as such.
- **random draws not examined**: random-control targets that ended as missed in the period (a
  supervisor's reason, or the conveyance released first), per stratum and reason. They are left out
  of the random sample, so if they are frequent the baseline is biased; the share is shown by stratum.

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

from apps.reports.definitions import MIN_RANDOM_EXAMS, MIN_RANDOM_FINDINGS, MISSED_SHARE_WARN
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


def mh_lift(cells: list[tuple[int, int, int, int]], z: float = Z95) -> Lift:
    """Mantel–Haenszel ratio of proportions over strata with the Greenland–Robins interval (see module).

    ``cells`` holds ``(a, n1, c, n0)`` per stratum: the selector's findings and examinations, the random
    control's. One stratum is exactly :func:`katz_lift` (the Greenland–Robins variance reduces to Katz's).
    """
    cells = [(a, n1, c, n0) for a, n1, c, n0 in cells if n1 > 0 and n0 > 0]
    if not cells:
        return Lift(None, None, None)
    if len(cells) == 1:
        return katz_lift(*cells[0], z=z)

    def sums(rows: list[tuple[float, float, float, float]]) -> tuple[float, float, float]:
        r = sum(a * n0 / (n1 + n0) for a, n1, c, n0 in rows)
        s = sum(c * n1 / (n1 + n0) for a, n1, c, n0 in rows)
        p = sum(n1 * n0 * (a + c) / (n1 + n0) ** 2 - a * c / (n1 + n0) for a, n1, c, n0 in rows)
        return r, s, p

    r, s, _ = sums(cells)
    if s <= 0:
        return Lift(None, None, None)
    value = r / s
    corrected = r == 0
    used = [(a + 0.5, n1 + 1, c + 0.5, n0 + 1) for a, n1, c, n0 in cells] if corrected else cells
    r, s, p = sums(used)
    ratio = r / s
    se = math.sqrt(max(0.0, p / (r * s)))
    return Lift(value, ratio * math.exp(-z * se), ratio * math.exp(z * se), corrected)


@dataclass(frozen=True, slots=True)
class Rate:
    """A proportion ``findings / exams`` with its Wilson 95 % interval (``None`` without examinations)."""

    findings: int
    exams: int
    value: float | None
    low: float | None
    high: float | None


def wilson(findings: int, exams: int, z: float = Z95) -> Rate:
    """The Wilson score interval of one proportion (see module): sound near 0 % and with few draws."""
    if exams <= 0:
        return Rate(findings, exams, None, None, None)
    p, n = findings / exams, exams
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return Rate(findings, exams, p, max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale))


def supports_lift(base_exams: int, base_findings: int) -> bool:
    """Whether a stratum's random sample is large enough to measure lift against."""
    return base_exams >= MIN_RANDOM_EXAMS and base_findings >= MIN_RANDOM_FINDINGS


def too_few(base_exams: int) -> str:
    """What the ledger says where the random sample cannot support a figure."""
    return f"too few random-control examinations ({base_exams}) to measure lift here"


#: A stratum: (subject kind, port id or None, risk area) of the examined target.
Stratum = tuple[str, int | None, str]
RANDOM = ("random", "random")


@dataclass
class StratumLift:
    """One selector's examinations in one stratum, the random baseline there, and the lift."""

    stratum: Stratum
    examinations: int
    findings: int
    base: Rate
    lift: Lift
    note: str = ""

    @property
    def precision(self) -> float | None:
        return self.findings / self.examinations if self.examinations else None


@dataclass
class Baseline:
    """The random control of one stratum: its rate, and the random draws that ended missed."""

    stratum: Stratum
    rate: Rate
    missed: int = 0

    @property
    def supported(self) -> bool:
        return supports_lift(self.rate.exams, self.rate.findings)

    @property
    def missed_share(self) -> float | None:
        drawn = self.rate.exams + self.missed
        return self.missed / drawn if drawn else None

    @property
    def note(self) -> str:
        notes = [] if self.supported else [too_few(self.rate.exams)]
        if (self.missed_share or 0) > MISSED_SHARE_WARN:
            notes.append(f"{self.missed} random draws not examined: the baseline may be biased")
        return "; ".join(notes)


@dataclass(frozen=True, slots=True)
class MissedDraws:
    """Random-control targets of one stratum that ended missed for one reason."""

    stratum: Stratum
    reason: str
    count: int


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
    strata: list[StratumLift] = field(default_factory=list)
    lift_note: str = ""
    refs: list[str] = field(default_factory=list)  # a watchlist's entry references in the feedback

    @property
    def precision(self) -> float | None:
        return self.findings / self.examinations if self.examinations else None

    @property
    def measured_exams(self) -> int:
        """Examinations in strata whose random sample supports a lift (what the overall lift rests on)."""
        return sum(x.examinations for x in self.strata if supports_lift(x.base.exams, x.base.findings))

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
            "measured_exams": self.measured_exams,
            "lift_note": self.lift_note,
            "flags": "; ".join(self.flags),
        }


@dataclass
class Ledger:
    rows: list[LedgerRow]
    base_exams: int  # pooled over strata: shown for information, never divided into a lift
    base_findings: int
    baselines: list[Baseline] = field(default_factory=list)
    missed: list[MissedDraws] = field(default_factory=list)
    labels: dict[Stratum, str] = field(default_factory=dict)

    @property
    def missed_total(self) -> int:
        return sum(m.count for m in self.missed)

    def label(self, stratum: Stratum) -> str:
        return self.labels.get(stratum) or " · ".join(str(p) for p in stratum)

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


Counts = dict[tuple[str, str], tuple[int, int]]
StrataCounts = dict[tuple[str, str], dict[Stratum, tuple[int, int]]]


def _strata_counts(user: Any, s: Slice) -> StrataCounts:
    """Examinations and findings per (feedback kind, reference) and stratum of the examined target."""
    rows = feedback(user, s)
    if rows is None:
        return {}
    grouped = (
        rows.order_by()
        .values("kind", "ref", "target__subject__kind", "target__port_id", "target__risk_area")
        .annotate(n=Count("pk"), f=Count("pk", filter=Q(finding=True)))
    )
    out: StrataCounts = defaultdict(dict)
    for r in grouped:
        stratum = (r["target__subject__kind"], r["target__port_id"], r["target__risk_area"])
        out[(r["kind"], r["ref"])][stratum] = (r["n"], r["f"])
    return dict(out)


def _totals(strata: StrataCounts) -> Counts:
    return {
        key: (sum(n for n, _ in by.values()), sum(f for _, f in by.values())) for key, by in strata.items()
    }


def _counts(user: Any, s: Slice) -> Counts:
    return _totals(_strata_counts(user, s))


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
    strata = _strata_counts(user, s)
    counts = _totals(strata)
    base_n, base_f = counts.get(RANDOM, (0, 0))
    base = {k: wilson(f, n) for k, (n, f) in strata.get(RANDOM, {}).items()}
    rows: list[LedgerRow] = []
    rows += _rule_rows(user, s, counts)
    rows += _watchlist_rows(user, s, counts)
    rows += _model_rows(user, s, counts)
    for row in rows:
        _stratified_lift(row, _row_strata(row, strata), base)
    missed = random_not_examined(user, s)
    missed_by: dict[Stratum, int] = defaultdict(int)
    for m in missed:
        missed_by[m.stratum] += m.count
    baselines = [
        Baseline(k, base.get(k, wilson(0, 0)), missed_by.get(k, 0))
        for k in sorted(set(base) | set(missed_by), key=_order)
    ]
    wanted = {x.stratum for r in rows for x in r.strata} | {b.stratum for b in baselines}
    if flags:
        _flag_rules(user, s, [r for r in rows if r.kind == "rule"])
    return Ledger(
        rows=rows,
        base_exams=base_n,
        base_findings=base_f,
        baselines=baselines,
        missed=missed,
        labels=_labels(wanted),
    )


def _order(stratum: Stratum) -> tuple[str, int, str]:
    return (stratum[0] or "", stratum[1] or 0, stratum[2] or "")


def _row_strata(row: LedgerRow, strata: StrataCounts) -> dict[Stratum, tuple[int, int]]:
    """The row's examinations and findings per stratum (a watchlist sums its entries)."""
    if row.kind == "watchlist":
        out: dict[Stratum, list[int]] = defaultdict(lambda: [0, 0])
        for key in row.refs:
            for k, (n, f) in strata.get(("watchlist", key), {}).items():
                out[k][0] += n
                out[k][1] += f
        return {k: (n, f) for k, (n, f) in out.items()}
    return strata.get((row.kind, row.key), {})


def _stratified_lift(
    row: LedgerRow, counts: dict[Stratum, tuple[int, int]], base: dict[Stratum, Rate]
) -> None:
    """Each stratum's lift against its own random baseline, and the Mantel–Haenszel overall lift."""
    cells = []
    thin = 0
    for k in sorted(counts, key=_order):
        n, f = counts[k]
        if not n:
            continue
        rate = base.get(k, wilson(0, 0))
        if supports_lift(rate.exams, rate.findings):
            lift, note = katz_lift(f, n, rate.findings, rate.exams), ""
            cells.append((f, n, rate.findings, rate.exams))
        else:
            lift, note = Lift(None, None, None), too_few(rate.exams)
            thin += rate.exams
        row.strata.append(StratumLift(k, n, f, rate, lift, note))
    row.lift = mh_lift(cells)
    if row.examinations and not cells:
        row.lift_note = too_few(thin)
    elif row.examinations and row.measured_exams < row.examinations:
        row.lift_note = (
            f"lift rests on {row.measured_exams} of {row.examinations} examinations; the other "
            f"{row.examinations - row.measured_exams} are in strata with too few random-control "
            f"examinations ({thin}) to measure lift"
        )


def random_not_examined(user: Any, s: Slice) -> list[MissedDraws]:
    """Random-control targets that moved to "missed" in the period, per stratum and the reason given."""
    transition = optional_model("targeting", "Transition")
    if transition is None:
        return []
    draws = targets(user, s).filter(random_control=True, state="missed")
    moves = (
        transition.objects.filter(
            target__in=draws.values("pk"), to_state="missed", at__gte=s.since, at__lt=s.until
        )
        .order_by("target_id", "-at", "-pk")
        .values_list(
            "target_id",
            "target__subject__kind",
            "target__port_id",
            "target__risk_area",
            "reason",
            "target__subject__title",
            "target__subject__external_id",
        )
    )
    counted: dict[tuple[Stratum, str], int] = defaultdict(int)
    seen: set[int] = set()
    for target_id, kind, port_id, area, reason, title, external_id in moves.iterator(chunk_size=2000):
        if target_id in seen:  # the latest move to missed of each target
            continue
        seen.add(target_id)
        counted[((kind, port_id, area), _scrub(reason, title, external_id))] += 1
    out = [MissedDraws(k, reason, n) for (k, reason), n in counted.items()]
    return sorted(out, key=lambda m: (_order(m.stratum), -m.count, m.reason))


def _scrub(reason: str, *names: str) -> str:
    """The reason as written, with the subject's title and identifier blanked: the ledger and its exports
    carry figures and staff's words, never who or what the subject was."""
    text = (reason or "").strip()
    for name in names:
        if name and len(name) >= 3:
            text = re.sub(re.escape(name), "[subject]", text, flags=re.IGNORECASE)
    return text or "No reason recorded"


def _labels(strata: set[Stratum]) -> dict[Stratum, str]:
    """Stratum names for people: "Consignment · Felixstowe · Narcotics"."""
    from apps.intake.models import SubjectKind
    from apps.targeting.models import RiskArea

    port_model = optional_model("agencies", "Port")
    ports = {}
    if port_model is not None:
        ids = {k[1] for k in strata if k[1]}
        ports = dict(port_model.objects.filter(pk__in=ids).values_list("pk", "name"))
    kinds, areas = dict(SubjectKind.choices), dict(RiskArea.choices)
    return {
        k: " · ".join(
            (
                str(kinds.get(k[0], k[0] or "–")),
                str(ports.get(k[1], "No port")),
                str(areas.get(k[2], k[2] or "–")),
            )
        )
        for k in strata
    }


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
            refs=[f"watchlist-entry:{e}" for e, wid in list_of.items() if wid == w.pk],
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
