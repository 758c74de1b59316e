"""CSV and XLSX of any report table. Figures only: the tables never hold a subject's personal data.

Numbers are written as numbers (a rate as a fraction, e.g. 0.667, with the unit in the header), so a
spreadsheet can compute with them; each file starts with what it is and for which slice.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from apps.core import csvsafe
from apps.reports.charts import currency
from apps.reports.services import Column, Table
from apps.reports.slicing import Slice

UNIT_SUFFIX = {"percent": " (fraction)", "hours": " (hours)"}


def _header(c: Column) -> str:
    if c.unit == "money":
        return f"{c.label} ({currency()})"
    return c.label + UNIT_SUFFIX.get(c.unit, "")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_csv(table: Table, s: Slice) -> bytes:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)  # formulas neutralised in every cell, titles included
    writer.writerow([f"# {table.title}", s.describe()])
    if table.note:
        writer.writerow([f"# {table.note}"])
    writer.writerow([_header(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(c.key)) for c in table.columns])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, s: Slice) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = table.name[:31]
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([s.describe()])
    if table.note:
        sheet.append([table.note])
    sheet.append([])
    sheet.append([_header(c) for c in table.columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="0B5CAB")
    for row in table.rows:
        # openpyxl stores text starting with "=" as a formula: the same rule as the CSV applies.
        sheet.append([csvsafe.neutralise(_cell(row.get(c.key))) for c in table.columns])
    formats = {"percent": "0.0%", "money": "#,##0.00", "hours": "0.0", "ratio": "0.00", "count": "#,##0"}
    for index, column in enumerate(table.columns, start=1):
        fmt = formats.get(column.unit)
        letter = sheet.cell(row=header_row, column=index).column_letter
        width = max(len(_header(column)), 10)
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
            if fmt and isinstance(cell.value, int | float):
                cell.number_format = fmt
            width = max(width, min(60, len(str(cell.value or ""))))
        sheet.column_dimensions[letter].width = width + 2
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
