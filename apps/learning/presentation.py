"""How model metrics are laid out for people: one row per inspection rate."""

from __future__ import annotations

from typing import Any

RATES = ("1%", "5%", "10%")


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{rate, precision, recall, lift}]`` for 1, 5 and 10 % (lift = precision / base rate)."""
    base = metrics.get("base_rate") or 0
    rows = []
    for rate in RATES:
        precision = metrics.get(f"precision@{rate}")
        rows.append(
            {
                "rate": rate,
                "precision": precision,
                "recall": metrics.get(f"recall@{rate}"),
                "lift": (precision / base) if precision is not None and base else None,
            }
        )
    return rows
