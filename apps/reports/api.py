"""Reports API: the report page's measures, tables, effectiveness ledger and exports, for systems.

Not model endpoints: each action checks the same named operation as its page (``report.view`` to read,
``report.export`` for files) and computes through the same functions (:func:`cached_report`,
:func:`table`, :func:`ledger`, :func:`render_pdf`), with the slice read by the page's own
:class:`SliceForm`. So the figures are the page's for the same user and query, counted through
``visible_to``: an agency gets only its own figures, and a bad filter answers 400 naming the field, as
the page's exports do. Like the page's exports, the files hold figures only (no subject's data), so they
need no declared purpose and write no access-log entry.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.operations import can
from apps.core.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from apps.core.problems import QueryParameterError, is_problem
from apps.reports import exports
from apps.reports.definitions import MEASURES
from apps.reports.effectiveness import ledger
from apps.reports.forms import CHANNELS, SliceForm
from apps.reports.pdf import render_pdf
from apps.reports.services import (
    TABLES,
    Table,
    build_report,
    cached_report,
    ledger_strata_table,
    ledger_table,
    random_missed_table,
    table,
)
from apps.reports.slicing import Slice
from apps.targeting.models import RiskArea

__all__ = ["ReportViewSet"]

#: The problem-detail component the API schema registers for every operation (apps.core.schema).
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def problem(code: int, description: str) -> dict[tuple[int, str], OpenApiResponse]:
    """An error answer in the schema: a problem detail (``apps.core.problems``) saying when it happens."""
    return {(code, PROBLEM_CONTENT_TYPE): OpenApiResponse(response=PROBLEM_REF, description=description)}


# --------------------------------------------------------------------------- renderers of the files


class _FileRenderer(BaseRenderer):
    """Passes a file's bytes through; an error (a dict) is written as JSON so a client can read it.

    Its ``format`` also lets ``?format=csv|xlsx`` choose the file, as on the page's export link.
    """

    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data, default=str).encode()


class CsvRenderer(_FileRenderer):
    media_type, format = "text/csv", "csv"


class XlsxRenderer(_FileRenderer):
    media_type, format = XLSX, "xlsx"


class PdfRenderer(_FileRenderer):
    media_type, format = "application/pdf", "pdf"


# --------------------------------------------------------------------------- serializers (the schema)


class SliceQuerySerializer(serializers.Serializer):
    """The report's filters: the page's query string (``SliceForm``), with the same names."""

    start = serializers.DateField(required=False, help_text="First day (UTC, included); default 30 days ago.")
    end = serializers.DateField(required=False, help_text="Last day (UTC, included); default today.")
    port = serializers.IntegerField(required=False, help_text="A port id you may see.")
    agency = serializers.IntegerField(required=False, help_text="An agency id you may see.")
    risk_area = serializers.ChoiceField(choices=RiskArea.choices, required=False)
    channel = serializers.ChoiceField(choices=CHANNELS, required=False)
    officer = serializers.IntegerField(required=False, help_text="A frontline officer of your agency.")
    rule = serializers.IntegerField(required=False, help_text="A rule id you may see.")


class SliceSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()
    description = serializers.CharField(help_text="The slice in words, as headings and exports print it.")
    filters = serializers.DictField(child=serializers.CharField(), help_text="The filters applied, by name.")
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()


class MeasureSerializer(serializers.Serializer):
    key = serializers.CharField()
    # A declared field named label (collected from the class body); the stubs read Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    unit = serializers.CharField(help_text="count, percent (a fraction), hours, money or ratio.")
    definition = serializers.CharField()
    better = serializers.CharField(help_text='"up", "down" or "" (neither).')
    value = serializers.FloatField(allow_null=True, help_text="null where not available for the slice.")
    headline = serializers.BooleanField(help_text="Shown as a headline figure on the page.")
    previous = serializers.FloatField(
        allow_null=True, help_text="The previous period of the same length (headline figures only)."
    )
    change = serializers.FloatField(allow_null=True)
    trend = serializers.CharField(help_text='"good", "bad" or "" as the page colours the change.')


class MeasuresSerializer(serializers.Serializer):
    slice = SliceSerializer()
    measures = MeasureSerializer(many=True)


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    # A declared field named label (collected from the class body); the stubs read Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    unit = serializers.CharField()


class TableSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(TABLES))
    title = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(), help_text="One object per row, by column key."
    )


class TableResponseSerializer(serializers.Serializer):
    slice = SliceSerializer()
    table = TableSerializer()


class LedgerSerializer(serializers.Serializer):
    slice = SliceSerializer()
    random_control = inline_serializer(
        "RandomControl",
        {
            "examinations": serializers.IntegerField(),
            "findings": serializers.IntegerField(),
            "rate": serializers.FloatField(allow_null=True),
            "not_examined": serializers.IntegerField(),
        },
    )
    rows = TableSerializer(help_text="One line per rule version, watchlist and model version.")
    strata = TableSerializer(help_text="The random baseline per stratum and each selector's lift there.")
    random_missed = TableSerializer(help_text="Random-control draws that ended missed, per reason.")
    flagged = serializers.IntegerField(help_text="Rows flagged for review.")


ERRORS = {
    **problem(400, "A filter is not valid: the body names the field."),
    **problem(403, "Your role may not read (or export) reports."),
}
TABLE_PARAM = OpenApiParameter("table", str, enum=list(TABLES), default="summary", description="Which table.")


# --------------------------------------------------------------------------- JSON of the figures


def _plain(value: Any) -> Any:
    """A figure as JSON: money as a number (as in the CSV), days as ISO dates, lists and rows within."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _slice_data(s: Slice) -> dict[str, Any]:
    previous = s.previous()
    return {
        "start": s.start,
        "end": s.end,
        "days": s.days,
        "description": s.describe(),
        "filters": {k: v for k, v in s.query().items() if k not in {"start", "end"}},
        "previous_start": previous.start,
        "previous_end": previous.end,
    }


def _table_data(t: Table) -> dict[str, Any]:
    return {
        "name": t.name,
        "title": t.title,
        "note": t.note,
        "columns": [{"key": c.key, "label": c.label, "unit": c.unit} for c in t.columns],
        "rows": _plain(t.rows),
    }


# --------------------------------------------------------------------------- the endpoints


class ReportViewSet(viewsets.ViewSet):
    """The report of a period, narrowed like the page (``?start=&end=&port=&agency=&risk_area=&channel=
    &officer=&rule=``): figures counted over what your agency (and, for a port role, your ports) may see."""

    #: The operation each action needs, as on the page.
    operations = {"measures": "report.view", "tables": "report.view", "ledger": "report.view",
                  "export": "report.export", "pdf": "report.export"}  # fmt: skip

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        operation = self.operations.get(self.action or "")
        if operation and not can(request.user, operation):
            raise ApiPermissionDenied(f"Your role may not perform {operation}.")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # An error of a file endpoint is not a file: it is answered as JSON, whatever file was asked for.
        if response.status_code >= 400 and isinstance(
            getattr(response, "accepted_renderer", None), _FileRenderer
        ):
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), "application/json"
            if is_problem(response.data):
                response.content_type = PROBLEM_CONTENT_TYPE
        return response

    def _slice(self, request: Request) -> Slice:
        """The slice asked for, refused (400 naming the field) rather than replaced, as exports do."""
        form = SliceForm(request.query_params or None, user=request.user)
        s = form.to_slice()
        if form.errors:
            raise QueryParameterError(
                {field: [str(e) for e in errors] for field, errors in form.errors.items()}
            )
        return s

    @extend_schema(
        summary="Every measure of the report, with the previous period for the headline figures",
        parameters=[SliceQuerySerializer],
        responses={200: MeasuresSerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"])
    def measures(self, request: Request) -> Response:
        s = self._slice(request)
        report = cached_report(request.user, s)  # the page's computation (and cache) for this user and slice
        kpis = {k["measure"].key: k for k in report.kpis}
        rows = []
        for key, measure in MEASURES.items():
            kpi = kpis.get(key, {})
            rows.append(
                {
                    "key": key,
                    "label": measure.label,
                    "unit": measure.unit,
                    "definition": measure.definition,
                    "better": measure.better,
                    "value": _plain(report.values.get(key)),
                    "headline": key in kpis,
                    "previous": _plain(kpi.get("previous")),
                    "change": kpi.get("change"),
                    "trend": kpi.get("trend", ""),
                }
            )
        return Response({"slice": _slice_data(s), "measures": rows})

    @extend_schema(
        summary="One table of the report as JSON (the rows its CSV export carries)",
        parameters=[SliceQuerySerializer, TABLE_PARAM],
        responses={
            200: TableResponseSerializer,
            **problem(404, "No such table."),
            **ERRORS,
        },
    )
    @action(detail=False, methods=["get"])
    def tables(self, request: Request) -> Response:
        name = self._table_name(request)
        s = self._slice(request)
        return Response({"slice": _slice_data(s), "table": _table_data(table(request.user, s, name))})

    @extend_schema(
        summary="The effectiveness ledger: rules, watchlists and model versions against random control",
        parameters=[SliceQuerySerializer],
        responses={200: LedgerSerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"])
    def ledger(self, request: Request) -> Response:
        s = self._slice(request)
        book = ledger(request.user, s)
        return Response(
            {
                "slice": _slice_data(s),
                "random_control": {
                    "examinations": book.base_exams,
                    "findings": book.base_findings,
                    "rate": book.base_rate,
                    "not_examined": book.missed_total,
                },
                "rows": _table_data(ledger_table(request.user, s, book)),
                "strata": _table_data(ledger_strata_table(request.user, s, book)),
                "random_missed": _table_data(random_missed_table(request.user, s, book)),
                "flagged": len(book.flagged),
            }
        )

    @extend_schema(
        summary="A report table as CSV or XLSX, as the page's export link gives it",
        parameters=[
            SliceQuerySerializer,
            TABLE_PARAM,
            OpenApiParameter("format", str, enum=["csv", "xlsx"], default="csv", description="The file."),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            **problem(404, "No such table or format."),
            **ERRORS,
        },
    )
    @action(detail=False, methods=["get"], renderer_classes=[CsvRenderer, XlsxRenderer])
    def export(self, request: Request) -> Response:
        name = self._table_name(request)
        kind = request.accepted_renderer.format
        s = self._slice(request)
        data = table(request.user, s, name)
        body = exports.to_csv(data, s) if kind == "csv" else exports.to_xlsx(data, s)
        filename = f"ratc-{name}-{s.start:%Y%m%d}-{s.end:%Y%m%d}.{kind}"
        return self._file(body, f'attachment; filename="{filename}"')

    @extend_schema(
        summary="The PDF report of the slice, with its charts and the ledger",
        parameters=[SliceQuerySerializer],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(detail=False, methods=["get"], renderer_classes=[PdfRenderer])
    def pdf(self, request: Request) -> Response:
        s = self._slice(request)
        body = render_pdf(
            build_report(request.user, s), [ledger_table(request.user, s)], who=request.user.username
        )
        return self._file(body, f'inline; filename="ratc-report-{s.start:%Y%m%d}-{s.end:%Y%m%d}.pdf"',
                          content_type="application/pdf")  # fmt: skip

    @staticmethod
    def _table_name(request: Request) -> str:
        name = request.query_params.get("table", "summary")
        if name not in TABLES:
            raise NotFound("No such table.")
        return name

    @staticmethod
    def _file(body: bytes, disposition: str, content_type: str | None = None) -> Response:
        response = Response(body, content_type=content_type)
        response["Content-Disposition"] = disposition
        response["Cache-Control"] = "no-store"
        return response
