"""The report page's tables: per port, per officer, per day, per channel and per risk area, made from
the grouped scans of :mod:`apps.reports.scope` (or from rows the direct reference counts alike)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum

from apps.agencies.models import Port, PortCapacity
from apps.reports.scope import _ratio, daily_stats, exam_groups, nomination_groups
from apps.reports.slicing import Slice


def port_workload(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per port: examinations (per method) against slots (per method) over the period's days."""
    groups = exam_groups(user, s) if groups is None else groups
    done: dict[tuple[int, str], int] = defaultdict(int)
    for g in groups or ():
        done[(g["port_id"], g["method"])] += g["n"]
    return workload_rows(user, s, done)


def workload_rows(user: Any, s: Slice, done: dict[tuple[int, str], int]) -> list[dict[str, Any]]:
    """The port workload table from examinations per (port, method), against the ports' slots."""
    slots: dict[tuple[int, str], int] = defaultdict(int)
    capacities = PortCapacity.objects.visible_to(user)
    if s.port_id:
        capacities = capacities.filter(port_id=s.port_id)
    for row in capacities.order_by().values("port_id", "method").annotate(n=Sum("slots")):
        slots[(row["port_id"], row["method"])] += row["n"] * s.days
    port_ids = {p for p, _ in done} | {p for p, _ in slots}
    ports = {p.pk: p for p in Port.objects.visible_to(user).filter(pk__in=[p for p in port_ids if p])}
    rows = []
    for port_id in sorted(port_ids, key=lambda p: ports[p].name if p in ports else "~"):
        exams = sum(n for (p, _), n in done.items() if p == port_id)
        capacity = sum(n for (p, _), n in slots.items() if p == port_id)
        methods = sorted({m for (p, m) in list(done) + list(slots) if p == port_id})
        rows.append(
            {
                "port": ports[port_id].name if port_id in ports else "No port",
                "locode": ports[port_id].locode if port_id in ports else "",
                "examinations": exams,
                "capacity": capacity,
                "use": _ratio(exams, capacity),
                "methods": [
                    {
                        "method": m,
                        "examinations": done.get((port_id, m), 0),
                        "capacity": slots.get((port_id, m), 0),
                    }
                    for m in methods
                ],
            }
        )
    return rows


def capacity_use(rows: list[dict[str, Any]]) -> float | None:
    """Examinations ÷ slots over the ports of :func:`port_workload`."""
    return _ratio(sum(r["examinations"] for r in rows), sum(r["capacity"] for r in rows))


def officer_workload(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per officer (who made the examination): examinations, findings, hit rate, hours spent, per day."""
    groups = exam_groups(user, s) if groups is None else groups
    if groups is None:
        return []
    per: dict[int | None, dict[str, Any]] = {}
    for g in groups:
        row = per.setdefault(
            g["officer_id"], {"officer_id": g["officer_id"], "examinations": 0, "findings": 0, "spent": 0.0}
        )
        row["examinations"] += g["n"]
        row["findings"] += g["f"]
        row["spent"] += g["hours"] or 0.0
    return officer_rows(s, list(per.values()))


def officer_rows(s: Slice, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The officer table from ``{officer_id, examinations, findings, hours}`` rows."""
    from django.contrib.auth import get_user_model

    names = dict(
        get_user_model().objects.filter(pk__in=[r["officer_id"] for r in rows]).values_list("pk", "username")
    )
    out = [
        {
            "officer": names.get(r["officer_id"], "—"),
            "officer_id": r["officer_id"],
            "examinations": r["examinations"],
            "findings": r["findings"],
            "hit_rate": _ratio(r["findings"], r["examinations"]),
            "hours": r["spent"] or 0.0,
            "per_day": r["examinations"] / s.days,
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["examinations"], r["officer"]))


def day_rows(user: Any, s: Slice, arrivals: dict[date, int] | None = None) -> dict[date, dict[str, Any]]:
    """Every day of the period with its arrivals (from the daily summary, or ``arrivals`` per day when
    the caller has counted them), targets, examinations and findings still at zero: the rows of the
    daily trend (the direct reference fills them too)."""
    by_day: dict[date, dict[str, Any]] = {
        s.start + timedelta(days=i): {"arrivals": 0, "targets": 0, "examinations": 0, "findings": 0}
        for i in range(s.days)
    }
    if s.subject_level:
        if arrivals is None:
            grouped = daily_stats(user, s).order_by().values("day").annotate(n=Sum("arrivals"))
            arrivals = {row["day"]: row["n"] for row in grouped}
        for day, n in arrivals.items():
            by_day[day]["arrivals"] = n
    return by_day


def daily_trend(
    user: Any,
    s: Slice,
    *,
    exams: list[dict[str, Any]] | None = None,
    nominations: list[dict[str, Any]] | None = None,
    arrivals: dict[date, int] | None = None,
) -> list[dict[str, Any]]:
    """Per day of the period: arrivals, targets nominated, examinations and findings."""
    by_day = day_rows(user, s, arrivals)
    for g in nomination_groups(user, s) if nominations is None else nominations:
        by_day[g["nominated_day"]]["targets"] += g["n"]
    for g in (exam_groups(user, s) if exams is None else exams) or ():
        by_day[g["exam_day"]]["examinations"] += g["n"]
        by_day[g["exam_day"]]["findings"] += g["f"]
    return [{"day": d, **v} for d, v in sorted(by_day.items())]


def channel_distribution(user: Any, s: Slice, arrivals: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Arrivals of the period by the channel of their latest assessment ("not assessed" when none),
    from the daily summary or from ``arrivals`` per channel when the caller has counted them."""
    if not s.subject_level:
        return []
    labels = {"green": "Green", "yellow": "Yellow", "red": "Red", "blue": "Blue", "": "Not assessed"}
    rows = (
        {
            r["channel"]: r["n"]
            for r in daily_stats(user, s).order_by().values("channel").annotate(n=Sum("arrivals"))
        }
        if arrivals is None
        else arrivals
    )
    return [{"channel": c, "label": label, "arrivals": rows.get(c, 0)} for c, label in labels.items()]


def hit_rate_by_area(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Examinations, findings and hit rate per risk area of the target."""
    groups = exam_groups(user, s) if groups is None else groups
    if groups is None:
        return []
    per: dict[str, dict[str, Any]] = {}
    for g in groups:
        row = per.setdefault(g["risk_area"], {"risk_area": g["risk_area"], "n": 0, "f": 0})
        row["n"] += g["n"]
        row["f"] += g["f"]
    return area_rows(list(per.values()))


def area_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hit rate table from ``{risk_area, n, f}`` rows."""
    from apps.targeting.models import RiskArea

    labels = dict(RiskArea.choices)
    out = [
        {
            "risk_area": r["risk_area"],
            "label": labels.get(r["risk_area"], r["risk_area"]),
            "examinations": r["n"],
            "findings": r["f"],
            "hit_rate": _ratio(r["f"], r["n"]),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: -r["examinations"])
