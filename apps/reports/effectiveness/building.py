# ruff: noqa: RUF002 - typographic dashes, minus and times signs are meant for readers
"""The ledger made: every source's row with its lift against the random baseline, stratified."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from apps.reports.effectiveness.book import (
    RANDOM,
    Baseline,
    Ledger,
    LedgerRow,
    MissedDraws,
    Stratum,
    StratumLift,
)
from apps.reports.effectiveness.counting import StrataCounts, _strata_counts, _totals
from apps.reports.effectiveness.rows import (
    _flag_rules,
    _labels,
    _model_rows,
    _rule_rows,
    _scrub,
    _watchlist_rows,
)
from apps.reports.effectiveness.statistics import (
    Lift,
    Rate,
    katz_lift,
    mh_lift,
    supports_lift,
    too_few,
    wilson,
)
from apps.reports.scope import DRAWN, targets
from apps.reports.slicing import Slice, optional_model


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
    draws = targets(user, s).filter(**{DRAWN: True}, state="missed")
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


def rule_ledger(user: Any, s: Slice, rule_id: int) -> list[LedgerRow]:
    """The ledger rows of one rule's versions."""
    from dataclasses import replace

    return [r for r in ledger(user, replace(s, rule_id=rule_id)).rows if r.rule_id == rule_id]
