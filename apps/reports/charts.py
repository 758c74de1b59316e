# ruff: noqa: RUF001, RUF002 - typographic dashes, minus and times signs are meant for readers
"""A small SVG chart renderer: bars, lines and intervals drawn on the server, with their data as a table.

The page embeds the SVG (no script, nothing from outside); colours are CSS classes so the light and
dark themes apply. Each chart has a ``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``) and
its values as a table right under it, so the figures can be read without the picture. The PDF draws
the same :class:`Chart` data with reportlab (``apps.reports.pdf``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString, mark_safe


def escape(text: object) -> str:
    """``django.utils.html.escape`` without its lazy-string wrapper (the same characters escaped, the
    same output): a chart escapes every label and value of its tooltips, hundreds per page."""
    return html.escape(str(text))


W, H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48


@dataclass
class Chart:
    """A chart: what it shows (title, one-sentence description), its data table and how it is drawn."""

    key: str
    title: str
    description: str
    kind: str  # bar | line | interval
    labels: list[str]
    series: dict[str, list[float | None]]
    unit: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(v for values in self.series.values() for v in values if v)

    @property
    def svg(self) -> SafeString:
        drawer = {"bar": _bars, "line": _lines, "interval": _intervals}[self.kind]
        return drawer(self)


def nice_max(value: float) -> float:
    """A round upper bound for an axis of four steps, each step 1, 2, 2.5 or 5 × 10ⁿ."""
    if value <= 0:
        return 1.0
    quarter = value / 4
    exponent = math.floor(math.log10(quarter))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= quarter - 1e-12:
            return float(bound * 4)
    return float(4 * 10 ** (exponent + 1))


def currency() -> str:
    """The centre's currency code (``RATC_CURRENCY``): every amount the report shows is in it."""
    from django.conf import settings

    return settings.RATC_CURRENCY


def money(value: Any) -> str:
    """An amount with its currency: 100,000 GBP."""
    return f"{float(value):,.0f} {currency()}"


def duration(hours: float) -> str:
    """A duration in the unit that reads best: 40 s · 12 min · 2.5 h · 3.2 d.

    Measures are kept in hours (exports carry hours), but steps on a busy floor take minutes: one
    decimal of an hour would show most of them as 0.0 h.
    """
    seconds = max(0.0, hours * 3600)
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    if seconds < 3570:
        return f"{seconds / 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def fmt(value: float | None, unit: str = "") -> str:
    """A figure as people read it: 12,345 · 66.7 % · 2.5 h · 12 min · 100,000 GBP."""
    if value is None:
        return "–"
    if unit == "percent":
        return f"{value * 100:.1f} %"
    if unit == "hours":
        return duration(value)
    if unit == "money":
        return money(value)
    if unit == "ratio":
        return f"{value:.2f}"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.1f}"


def tick(value: float, unit: str = "") -> str:
    """An axis label, short: 4M, 250k, 50 %."""
    if unit == "percent":
        return f"{value * 100:.0f} %"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _open(chart: Chart) -> list[str]:
    uid = f"chart-{escape(chart.key)}"
    return [
        f'<svg class="rp-chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{uid}-t {uid}-d" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(chart.title)}</title><desc id="{uid}-d">{escape(chart.description)}</desc>',
    ]


def _axis(top: float, unit: str) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = H - BOTTOM - (H - TOP - BOTTOM) * i / 4
        parts.append(f'<line class="rp-grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="rp-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(tick(value, unit))}</text>'
        )
    return parts


def _label_step(n: int) -> int:
    return max(1, math.ceil(n / 12))


def _bars(chart: Chart) -> SafeString:
    names = list(chart.series)
    values = [[v or 0.0 for v in chart.series[name]] for name in names]
    top = nice_max(max((v for vs in values for v in vs), default=0))
    parts = _open(chart) + _axis(top, chart.unit)
    n = max(1, len(chart.labels))
    band = (W - LEFT - RIGHT) / n
    width = band * 0.7 / max(1, len(names))
    step = _label_step(n)
    for i, label in enumerate(chart.labels):
        x0 = LEFT + band * i + band * 0.15
        for j, name in enumerate(names):
            v = values[j][i]
            h = (H - TOP - BOTTOM) * (v / top)
            x = x0 + j * width
            y = H - BOTTOM - h
            css = chart.extra.get("classes", {}).get(label, f"rp-s{j}")
            parts.append(
                f'<rect class="rp-bar {css}" x="{x:.1f}" y="{y:.1f}" width="{max(1.0, width - 1):.1f}" '
                f'height="{max(0.0, h):.1f}"><title>{escape(label)} · {escape(name)}: {escape(fmt(v, chart.unit))}</title></rect>'
            )
        if i % step == 0:
            parts.append(
                f'<text class="rp-tick" x="{LEFT + band * (i + 0.5):.1f}" y="{H - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(_short(label, max(4, int(band * step / 6.5))))}</text>'
            )
    parts += _legend(names) if len(names) > 1 else []
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _lines(chart: Chart) -> SafeString:
    names = list(chart.series)
    top = nice_max(max((v or 0 for vs in chart.series.values() for v in vs), default=0))
    parts = _open(chart) + _axis(top, chart.unit)
    n = len(chart.labels)
    span = (W - LEFT - RIGHT) / max(1, n - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return LEFT + span * i, H - BOTTOM - (H - TOP - BOTTOM) * (v / top)

    for j, name in enumerate(names):
        points = [xy(i, v or 0) for i, v in enumerate(chart.series[name])]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline class="rp-line rp-s{j}" points="{path}" fill="none"/>')
        if n <= 62:
            for (x, y), label, v in zip(points, chart.labels, chart.series[name], strict=True):
                parts.append(
                    f'<circle class="rp-dot rp-s{j}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                    f"<title>{escape(label)} · {escape(name)}: {escape(fmt(v, chart.unit))}</title></circle>"
                )
    step = _label_step(n)
    for i, label in enumerate(chart.labels):
        if i % step == 0:
            x, _ = xy(i, 0)
            parts.append(
                f'<text class="rp-tick" x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(_short(label))}</text>'
            )
    parts += _legend(names)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _intervals(chart: Chart) -> SafeString:
    """A forest plot: one row per selector, its lift as a dot and its 95 % interval as a line."""
    lows, values, highs = (chart.series[k] for k in ("low", "value", "high"))
    lo_bound, hi_bound = log_bounds([*lows, *values, *highs])
    n = max(1, len(chart.labels))
    height = TOP + BOTTOM + 22 * n
    left = 200
    uid = f"chart-{escape(chart.key)}"
    parts = [
        f'<svg class="rp-chart" viewBox="0 0 {W} {height}" role="img" aria-labelledby="{uid}-t {uid}-d" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(chart.title)}</title><desc id="{uid}-d">{escape(chart.description)}</desc>',
    ]

    def x_of(v: float) -> float:
        return left + (W - RIGHT - left) * log_position(v, lo_bound, hi_bound)

    for tick in log_ticks(lo_bound, hi_bound):
        parts.append(
            f'<line class="rp-grid" x1="{x_of(tick):.1f}" x2="{x_of(tick):.1f}" y1="{TOP}" y2="{height - BOTTOM}"/>'
        )
        parts.append(
            f'<text class="rp-tick" x="{x_of(tick):.1f}" y="{height - BOTTOM + 16}" text-anchor="middle">{tick:g}×</text>'
        )
    parts.append(
        f'<line class="rp-ref" x1="{x_of(1):.1f}" x2="{x_of(1):.1f}" y1="{TOP}" y2="{height - BOTTOM}"/>'
    )
    parts.append(f'<text class="rp-tick" x="{x_of(1) + 4:.1f}" y="{TOP + 10}">chance</text>')
    for i, label in enumerate(chart.labels):
        y = TOP + 22 * i + 11
        parts.append(
            f'<text class="rp-tick" x="{left - 8}" y="{y + 4}" text-anchor="end">{escape(_short(label, 30))}</text>'
        )
        lo, v, hi = lows[i], values[i], highs[i]
        if lo is not None and hi is not None:
            parts.append(f'<line class="rp-ci" x1="{x_of(lo):.1f}" x2="{x_of(hi):.1f}" y1="{y}" y2="{y}"/>')
        if v is not None:
            parts.append(
                f'<circle class="rp-dot rp-s0" cx="{x_of(v):.1f}" cy="{y}" r="4"><title>{escape(label)}: '
                f"lift {v:.2f} (95 % CI {fmt(lo, 'ratio')}–{fmt(hi, 'ratio')})</title></circle>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def log_bounds(values: list[float | None]) -> tuple[float, float]:
    """Powers of ten around the positive values, always spanning 0.1× to 10× (lift is read on a log scale)."""
    finite = [v for v in values if v is not None and v > 0]
    low = min([*finite, 0.1])
    high = max([*finite, 10.0])
    return 10 ** math.floor(math.log10(low)), 10 ** math.ceil(math.log10(high))


def log_position(value: float, low: float, high: float) -> float:
    """Where ``value`` falls between ``low`` and ``high`` on a log scale, 0 to 1 (clamped)."""
    value = min(max(value, low), high)
    return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))


def log_ticks(low: float, high: float) -> list[float]:
    ticks, v = [], low
    while v <= high * 1.0001:
        ticks.append(v)
        v *= 10
    return ticks


def _legend(names: list[str]) -> list[str]:
    parts = []
    x = LEFT
    for j, name in enumerate(names):
        parts.append(f'<rect class="rp-bar rp-s{j}" x="{x}" y="{H - 18}" width="12" height="12"/>')
        parts.append(f'<text class="rp-legend" x="{x + 16}" y="{H - 8}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
