# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""The effectiveness ledger as tables: rules, lists and models with their lift, by stratum, and the random draws not examined."""

from __future__ import annotations

from typing import Any

from apps.reports.charts import fmt
from apps.reports.effectiveness import Ledger, ledger
from apps.reports.services.tables import TABLES, Column, Table
from apps.reports.slicing import Slice


def ledger_table(user: Any, s: Slice, book: Ledger | None = None) -> Table:
    book = book or ledger(user, s)
    kinds = {"rule": "Rule", "rule_shadow": "Rule (shadow)", "watchlist": "Watchlist", "model": "Model"}
    rows = []
    for r in book.rows:
        row = r.as_dict()
        row["kind"] = kinds.get(r.kind, r.kind)
        row["owner"] = r.owner
        row["rule_id"] = r.rule_id
        row["corrected"] = r.lift.corrected
        rows.append(row)
    return Table(
        "ledger",
        TABLES["ledger"],
        [
            Column("kind", "Kind"),
            Column("name", "Name"),
            Column("version", "Version"),
            Column("owner", "Owner"),
            Column("hits", "Hits", "count"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
            Column("precision", "Precision", "percent"),
            Column("lift", "Lift", "ratio"),
            Column("lift_low", "95 % CI low", "ratio"),
            Column("lift_high", "95 % CI high", "ratio"),
            Column("measured_exams", "Examinations with a baseline", "count"),
            Column("lift_note", "Lift note"),
            Column("flags", "Flags"),
        ],
        rows,
        note=f"Lift is measured per subject kind, port and risk area against the random control of the "
        f"same stratum (Mantel–Haenszel overall). Random control, all strata pooled (for information "
        f"only): {book.base_findings} findings in {book.base_exams} examinations "
        f"({fmt(book.base_rate, 'percent')}); {book.missed_total} random draws not examined.",
    )


def ledger_strata_table(user: Any, s: Slice, book: Ledger | None = None) -> Table:
    """The random baseline of every stratum, then each selector's lift in each stratum it examined."""
    book = book or ledger(user, s, flags=False)
    rows: list[dict[str, Any]] = []
    for b in book.baselines:
        rows.append(
            {
                "selector": "Random control",
                "stratum": book.label(b.stratum),
                "examinations": b.rate.exams,
                "findings": b.rate.findings,
                "rate": b.rate.value,
                "rate_low": b.rate.low,
                "rate_high": b.rate.high,
                "base_rate": None,
                "lift": None,
                "lift_low": None,
                "lift_high": None,
                "not_examined": b.missed,
                "note": b.note,
            }
        )
    for r in book.rows:
        for x in r.strata:
            rows.append(
                {
                    "selector": f"{r.name} {r.version}",
                    "stratum": book.label(x.stratum),
                    "examinations": x.examinations,
                    "findings": x.findings,
                    "rate": x.precision,
                    "rate_low": None,
                    "rate_high": None,
                    "base_rate": x.base.value,
                    "lift": x.lift.value,
                    "lift_low": x.lift.low,
                    "lift_high": x.lift.high,
                    "not_examined": None,
                    "note": x.note,
                }
            )
    return Table(
        "ledger_strata",
        TABLES["ledger_strata"],
        [
            Column("selector", "Selector"),
            Column("stratum", "Subject kind · port · risk area"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
            Column("rate", "Hit rate", "percent"),
            Column("rate_low", "95 % CI low", "percent"),
            Column("rate_high", "95 % CI high", "percent"),
            Column("base_rate", "Random-control rate", "percent"),
            Column("lift", "Lift", "ratio"),
            Column("lift_low", "Lift 95 % CI low", "ratio"),
            Column("lift_high", "Lift 95 % CI high", "ratio"),
            Column("not_examined", "Random draws not examined", "count"),
            Column("note", "Note"),
        ],
        rows,
        note="Random control: the true violation rate of the stratum with its Wilson interval. A selector's "
        "lift in a stratum is against that stratum's random-control rate (Katz interval).",
    )


def random_missed_table(user: Any, s: Slice, book: Ledger | None = None) -> Table:
    """Random-control targets that ended missed in the period, per stratum and reason."""
    book = book or ledger(user, s, flags=False)
    return Table(
        "random_missed",
        TABLES["random_missed"],
        [
            Column("stratum", "Subject kind · port · risk area"),
            Column("reason", "Reason given"),
            Column("count", "Random draws", "count"),
        ],
        [{"stratum": book.label(m.stratum), "reason": m.reason, "count": m.count} for m in book.missed],
        note="Random-control targets cannot be rejected or withdrawn; these ended as missed, so they are "
        "missing from the random sample and bias its rate if frequent.",
    )
