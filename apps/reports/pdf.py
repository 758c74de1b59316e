# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""The PDF report of a period: headline figures, the charts (drawn with reportlab), tables and definitions.

The charts are the same :class:`~apps.reports.charts.Chart` data as the page, drawn with reportlab's
vector graphics, so the PDF needs nothing but reportlab. No personal data: the tables are figures.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from apps.reports.charts import Chart, fmt, log_bounds, log_position, log_ticks, money, nice_max, tick
from apps.reports.measures import MEASURES
from apps.reports.services import Report, Table, lift_chart

ACCENT = colors.HexColor("#0b5cab")
MUTED = colors.HexColor("#5b6776")
BORDER = colors.HexColor("#d6dce4")
SERIES = [
    colors.HexColor("#0b5cab"),
    colors.HexColor("#c2410c"),
    colors.HexColor("#1f7a3d"),
    colors.HexColor("#7c3aed"),
]
CHANNEL_COLOURS = {
    "Green": "#1f7a3d",
    "Yellow": "#b58900",
    "Red": "#b3261e",
    "Blue": "#1d5fbf",
    "Not assessed": "#94a3b8",
}
WIDTH = A4[0] - 36 * mm


def _text(value: Any) -> str:
    """Dynamic text for a ``Paragraph``: its ``<b>``, ``<a href>`` and ``&`` are markup to reportlab, so a
    rule named ``<b>x`` broke the PDF and an ``<a href>`` became a live link. Escaped, it is just text."""
    return escape(str(value))


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "t", parent=base["Title"], alignment=TA_LEFT, fontSize=20, textColor=ACCENT, spaceAfter=2
        ),
        "sub": ParagraphStyle("s", parent=base["Normal"], textColor=MUTED, fontSize=9.5, spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=13, spaceBefore=10, spaceAfter=4),
        "body": ParagraphStyle("b", parent=base["Normal"], fontSize=9, leading=12),
        "small": ParagraphStyle("sm", parent=base["Normal"], fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8, leading=10),
    }


def _table(data: list[list[Any]], widths: list[float] | None = None, *, numeric_from: int = 1) -> PdfTable:
    table = PdfTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f6f9")]),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, BORDER),
                ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _value(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "money":
        return money(value)
    if unit == "number":
        return f"{float(value):,.3g}" if float(value) < 1000 else f"{float(value):,.0f}"
    if unit in {"date", "month"}:
        return value.strftime("%b %Y") if unit == "month" else value.strftime("%d %b")
    if unit in {"count", "percent", "hours", "ratio"}:
        return fmt(float(value), unit)
    return str(value)


def _change(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    if unit == "percent":
        return f"{sign}{abs(value) * 100:.1f} pts"
    return sign + _value(abs(value), unit)


def pdf_table(t: Table, styles: dict[str, ParagraphStyle], *, limit: int = 40) -> list[Any]:
    """A report table as a PDF table (first ``limit`` rows), with its title and note."""
    cols = [c for c in t.columns if c.key not in {"definition", "unit"}]
    head = [c.label for c in cols]
    rows = []
    for r in t.rows[:limit]:
        cells = []
        for c in cols:
            unit = r.get("unit", "") if c.unit == "auto" else c.unit
            text = _value(r.get(c.key), unit)
            cells.append(Paragraph(_text(text), styles["cell"]) if len(text) > 28 else text)
        rows.append(cells)
    if not rows:
        rows = [["Nothing in this period."] + [""] * (len(cols) - 1)]
    parts: list[Any] = [Paragraph(_text(t.title), styles["h2"]), _table([head, *rows])]
    if t.note:
        parts.append(Paragraph(_text(t.note), styles["small"]))
    if len(t.rows) > limit:
        parts.append(
            Paragraph(
                f"First {limit} of {len(t.rows)} rows; the CSV or XLSX export has them all.", styles["small"]
            )
        )
    return [KeepTogether(parts[:2]), *parts[2:]]


def draw_chart(chart: Chart, width: float = WIDTH, height: float = 62 * mm) -> Drawing:
    """The chart as reportlab vector graphics (bars, lines or a lift forest plot)."""
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, chart.title, fontName="Helvetica-Bold", fontSize=9.5))
    if chart.kind == "interval":
        return _draw_intervals(chart, drawing, width, height)
    names = list(chart.series)
    data = [[float(v or 0) for v in chart.series[n]] for n in names] or [[0]]
    labels = chart.labels or [""]
    plot = VerticalBarChart() if chart.kind == "bar" else HorizontalLineChart()
    plot.x, plot.y, plot.width, plot.height = 40, 28, width - 60, height - 52
    plot.data = data
    room = max(6, int((width - 60) / max(1, len(labels)) / 3.3))
    plot.categoryAxis.categoryNames = [lbl if len(lbl) <= room else lbl[: room - 1] + "…" for lbl in labels]
    plot.categoryAxis.labels.fontSize = 6.5
    step = max(1, len(labels) // 12)
    if step > 1:
        plot.categoryAxis.categoryNames = [
            lbl if i % step == 0 else "" for i, lbl in enumerate(plot.categoryAxis.categoryNames)
        ]
    top = nice_max(max((v for series in data for v in series), default=0))
    plot.valueAxis.valueMin, plot.valueAxis.valueMax, plot.valueAxis.valueStep = 0, top, top / 4
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.labelTextFormat = lambda v: tick(v, chart.unit)
    plot.valueAxis.gridStrokeColor = BORDER
    plot.valueAxis.visibleGrid = True
    if chart.kind == "bar":
        plot.bars.strokeColor = None
        classes = chart.extra.get("classes", {})
        for j in range(len(names)):
            plot.bars[j].fillColor = SERIES[j % len(SERIES)]
        if classes and len(names) == 1:
            for i, label in enumerate(labels):
                if label in CHANNEL_COLOURS:
                    plot.bars[(0, i)].fillColor = colors.HexColor(CHANNEL_COLOURS[label])
    else:
        for j in range(len(names)):
            plot.lines[j].strokeColor = SERIES[j % len(SERIES)]
            plot.lines[j].strokeWidth = 1.6
    drawing.add(plot)
    if len(names) > 1:
        legend = Legend()
        legend.x, legend.y = width - 160, height - 6
        legend.fontSize = 7.5
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.colorNamePairs = [(SERIES[j % len(SERIES)], n) for j, n in enumerate(names)]
        drawing.add(legend)
    return drawing


def _draw_intervals(chart: Chart, drawing: Drawing, width: float, height: float) -> Drawing:
    lows, values, highs = (chart.series[k] for k in ("low", "value", "high"))
    lo_bound, hi_bound = log_bounds([*lows, *values, *highs])
    left, right = 150, width - 10
    n = max(1, len(chart.labels))
    row_h = min(14, (height - 30) / n)

    def x_of(v: float) -> float:
        return left + (right - left) * log_position(v, lo_bound, hi_bound)

    for v in log_ticks(lo_bound, hi_bound):
        drawing.add(Line(x_of(v), 14, x_of(v), height - 16, strokeColor=BORDER, strokeWidth=0.4))
        drawing.add(String(x_of(v), 4, f"{v:g}×", fontSize=6.5, textAnchor="middle"))
    drawing.add(
        Line(
            x_of(1), 14, x_of(1), height - 16, strokeColor=colors.HexColor("#b3261e"), strokeDashArray=[2, 2]
        )
    )
    for i, label in enumerate(chart.labels):
        y = height - 24 - row_h * i
        drawing.add(String(left - 6, y - 2.5, label[:34], fontSize=7, textAnchor="end"))
        lo, value, hi = lows[i], values[i], highs[i]
        if lo is not None and hi is not None:
            drawing.add(Line(x_of(lo), y, x_of(hi), y, strokeColor=MUTED, strokeWidth=1.2))
        if value is not None:
            drawing.add(Circle(x_of(value), y, 2.6, fillColor=ACCENT, strokeColor=None))
    return drawing


def render_pdf(report: Report, extra_tables: list[Table], *, who: str = "") -> bytes:
    """The PDF of a report: page 1 headline and key charts, then the other charts, tables and definitions."""
    styles = _styles()
    out = io.BytesIO()
    s = report.slice
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"RATC Ops performance report {s.start:%d %b %Y} – {s.end:%d %b %Y}",
        author="RATC Ops",
    )
    story: list[Any] = [
        Paragraph("Performance report", styles["title"]),
        Paragraph(
            _text(
                f"{s.describe()} · compared with the previous {s.days} days · made {timezone.now():%d %b %Y %H:%M} UTC"
                + (f" for {who}" if who else "")
            ),
            styles["sub"],
        ),
    ]
    kpis = [["Measure", "This period", "Previous", "Change"]]
    for k in report.kpis:
        unit = k["measure"].unit
        change = k["change"]
        kpis.append(
            [k["measure"].label, _value(k["value"], unit), _value(k["previous"], unit), _change(change, unit)]
        )
    story.append(_table(kpis, [70 * mm, 34 * mm, 34 * mm, 34 * mm]))
    story.append(Spacer(1, 4 * mm))
    charts = {c.key: c for c in report.charts}
    for key in ("trend", "hit-rates"):
        if key in charts:
            story.append(draw_chart(charts[key], height=58 * mm))
            story.append(Spacer(1, 2 * mm))
    story.append(PageBreak())
    for key in ("arrivals", "channels", "states", "seizures", "areas"):
        if key in charts:
            story.append(CondPageBreak(66 * mm))
            story.append(draw_chart(charts[key]))
            story.append(Spacer(1, 3 * mm))
    for name in ("seizures", "ports", "officers"):
        if name in report.tables:
            story += pdf_table(report.tables[name], styles)
    for t in extra_tables:
        story += pdf_table(t, styles)
        if t.name == "ledger" and any(r["examinations"] for r in t.rows):
            rows = sum(1 for r in t.rows if r["examinations"])
            story.append(CondPageBreak(30 * mm + 14 * rows))
            story.append(draw_chart(lift_chart(t), height=min(200 * mm, 30 * mm + 14 * rows)))
    story.append(Paragraph("What each measure means", styles["h2"]))
    for measure in MEASURES.values():
        story.append(Paragraph(f"<b>{_text(measure.label)}.</b> {_text(measure.definition)}", styles["body"]))
    story.append(Spacer(1, 3 * mm))
    story.append(
        Paragraph(
            "Figures are aggregates of what the reader's agency may see; no traveller, trader or consignment is "
            "named or identified in this report.",
            styles["small"],
        )
    )

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(18 * mm, 9 * mm, "RATC Ops · performance report · official use")
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
