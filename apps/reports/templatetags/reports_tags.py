# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""Formatting of report figures by unit, the same way on every page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

from apps.reports.charts import fmt, money

register = template.Library()


@register.filter
def rp_value(value: Any, unit: str = "") -> str:
    """A figure as people read it: 12,345 · 66.7 % · 2.5 h · 12 min · 100,000 GBP · 05 Mar."""
    if value is None or value == "":
        return "–"
    if unit in {"date", "month"} and isinstance(value, date):
        return value.strftime("%b %Y" if unit == "month" else "%a %d %b")
    if unit == "money":
        return money(value)
    if unit == "number":
        return f"{float(value):,.3f}".rstrip("0").rstrip(".")
    if unit in {"count", "percent", "hours", "ratio"}:
        return fmt(float(value), unit)
    return str(value)


@register.filter
def rp_change(value: Any, unit: str = "") -> str:
    """A change with its sign (percentage points for rates)."""
    if value is None:
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    magnitude = abs(float(value))
    if unit == "percent":
        return f"{sign}{magnitude * 100:.1f} pts"
    return sign + rp_value(magnitude, unit)


@register.filter
def rp_cell(row: dict[str, Any], column: Any) -> str:
    """The cell of ``row`` for ``column``, formatted by the column's unit ("auto": the row's own unit)."""
    unit = row.get("unit", "") if column.unit == "auto" else column.unit
    if column.key == "change":
        return rp_change(row.get(column.key), unit)
    return rp_value(row.get(column.key), unit)


HIDDEN = {"unit", "definition", "locode"}


@register.simple_tag
def rp_table_body(t: Any) -> str:
    """The header and rows of a report table, drawn in Python (a template loop per cell is slow)."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    columns = [c for c in t.columns if c.key not in HIDDEN]
    head = format_html_join(
        "",
        '<th scope="col"{}>{}</th>',
        ((mark_safe(' class="num"') if c.unit else "", c.label) for c in columns),
    )
    if not t.rows:
        body = format_html(
            '<tr><td colspan="{}" class="muted">Nothing in this period.</td></tr>', len(columns)
        )
    else:
        lines = []
        for row in t.rows:
            cells = [format_html('<th scope="row">{}</th>', rp_cell(row, columns[0]))]
            cells += [
                format_html("<td{}>{}</td>", mark_safe(' class="num"') if c.unit else "", rp_cell(row, c))
                for c in columns[1:]
            ]
            lines.append("<tr>" + "".join(cells) + "</tr>")
        body = mark_safe("".join(lines))  # noqa: S308 - every cell above is escaped by format_html
    return format_html("<thead><tr>{}</tr></thead><tbody>{}</tbody>", head, body)


@register.simple_tag
def rp_chart_rows(chart: Any) -> str:
    """The data table rows of a chart."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    if not chart.rows:
        return format_html('<tr><td colspan="{}" class="muted">No figures.</td></tr>', len(chart.headers))
    lines = []
    for row in chart.rows:
        lines.append(
            format_html(
                '<tr><th scope="row">{}</th>{}</tr>',
                row[0],
                format_html_join("", '<td class="num">{}</td>', ((c,) for c in row[1:])),
            )
        )
    return mark_safe("".join(lines))  # noqa: S308 - escaped by format_html
