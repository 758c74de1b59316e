# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""Formatting of report figures by unit, the same way on every page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

from apps.reports.charts import escape, fmt, money

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
_NUMBER = 'class="num"'  # a number column's header (quotes an f-string cannot hold on 3.11)


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
        # Plain escaping per cell (format_html per cell costs more than the rest of the table).
        opens = ['<td class="num">' if c.unit else "<td>" for c in columns[1:]]
        lines = []
        for row in t.rows:
            cells = [f'<tr><th scope="row">{escape(rp_cell(row, columns[0]))}</th>']
            cells += [f"{o}{escape(rp_cell(row, c))}</td>" for o, c in zip(opens, columns[1:], strict=True)]
            lines.append("".join(cells) + "</tr>")
        body = mark_safe("".join(lines))  # noqa: S308 - every cell above is escaped
    return format_html("<thead><tr>{}</tr></thead><tbody>{}</tbody>", head, body)


@register.simple_tag
def rp_kpis(kpis: list[dict[str, Any]]) -> str:
    """The headline figures' cards (``build_report``'s ``kpis``), drawn in Python: the template's loop
    resolved some 170 variables and filters a page for fourteen cards. Same markup, every text escaped."""
    from django.utils.safestring import mark_safe

    cards = []
    for k in kpis:
        measure, unit = k["measure"], k["measure"].unit
        label, value = escape(measure.label), escape(rp_value(k["value"], unit))
        previous = escape(rp_value(k["previous"], unit))
        cards.append(
            f'\n    <article class="rp-kpi rp-kpi-{escape(k["trend"] or "flat")}" aria-label="{label}: {value}, '
            f'previous period {previous}">\n      <h3 class="rp-kpi-label"><a href="#help" '
            f'title="{escape(measure.definition)}">{label}</a></h3>\n      <p class="rp-kpi-value">{value}</p>\n'
            f'      <p class="rp-kpi-prev"><span class="rp-delta">{escape(rp_change(k["change"], unit))}</span> '
            f'<span class="muted">vs {previous}</span></p>\n    </article>\n  '
        )
    return mark_safe("".join(cards))  # noqa: S308 - every text above is escaped


@register.simple_tag
def rp_figure(chart: Any) -> str:
    """A chart as a figure: its picture, and its figures as a table under it (``reports/_chart.html``
    draws it with this tag). Drawn in Python: the page has seven, each a template of its own with a
    dozen variables. Every text escaped; the SVG is the chart's own (escaped where it is drawn)."""
    from django.utils.safestring import mark_safe

    title = escape(chart.title)
    picture = '<p class="muted rp-empty">Nothing to draw in this period.</p>' if chart.empty else chart.svg
    headers = "".join(
        f'<th scope="col" {"" if i == 0 else _NUMBER}>{escape(h)}</th>' for i, h in enumerate(chart.headers)
    )
    return mark_safe(  # noqa: S308 - every text is escaped, the SVG is safe as drawn
        f'<figure class="card rp-figure" id="figure-{escape(chart.key)}">\n'
        f'  <figcaption class="rp-figcaption">{title}</figcaption>\n'
        f"  {picture}\n"
        '  <details class="rp-data">\n'
        f'    <summary>Show the figures <span class="visually-hidden">of {title}</span></summary>\n'
        f'    <p class="small muted">{escape(chart.description)}</p>\n'
        '    <table class="table compact">\n'
        f'      <caption class="visually-hidden">{title}</caption>\n'
        f"      <thead><tr>{headers}</tr></thead>\n"
        f"      <tbody>{rp_chart_rows(chart)}</tbody>\n"
        "    </table>\n"
        "  </details>\n"
        "</figure>\n"
    )


@register.simple_tag
def rp_chart_rows(chart: Any) -> str:
    """The data table rows of a chart."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    if not chart.rows:
        return format_html('<tr><td colspan="{}" class="muted">No figures.</td></tr>', len(chart.headers))
    lines = [
        f'<tr><th scope="row">{escape(row[0])}</th>'
        + "".join(f'<td class="num">{escape(c)}</td>' for c in row[1:])
        + "</tr>"
        for row in chart.rows
    ]
    return mark_safe("".join(lines))  # noqa: S308 - every cell is escaped


@register.simple_tag
def rp_select(bound: Any) -> str:
    """A filter's ``<select>`` drawn in Python: Django's widget renders a template for every option,
    a tenth of the page's time for a few dozen options. Same markup: name, id, the chosen option
    ``selected``, ``aria-invalid`` on an error."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    value = bound.value()
    chosen = "" if value is None else str(getattr(value, "pk", value))
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (str(key), mark_safe(" selected") if str(key) == chosen else "", label)
            for key, label in bound.field.choices
        ),
    )
    invalid = mark_safe(' aria-invalid="true"') if bound.errors else ""
    return format_html(
        '<select name="{}" id="{}"{}>{}</select>', bound.html_name, bound.auto_id, invalid, options
    )
