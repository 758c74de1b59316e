"""Reports API: the page's measures, tables, ledger and exports, for the same user and the same filters."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from apps.compliance.models import AccessLogEntry
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db
QUERY = {"start": str(PERIOD.start), "end": str(PERIOD.end)}


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _measures(user, **filters) -> dict[str, dict]:
    response = api_for(user).get(reverse("report-measures"), {**QUERY, **filters})
    assert response.status_code == 200, response.content
    return {m["key"]: m for m in response.json()["measures"]}


def _number(value):
    return None if value is None else float(value)


@pytest.mark.parametrize(
    "filters", [{}, {"port": "a"}, {"port": "b", "channel": "yellow"}, {"risk_area": "revenue"}]
)
def test_measures_equal_the_pages_for_the_same_filters(history, manager, client_for, world, filters):
    ports = {"a": world.port_a.pk, "b": world.port_b.pk}
    filters = {k: ports[v] if k == "port" else v for k, v in filters.items()}
    page = client_for(manager).get(reverse("reports:home"), {**QUERY, **filters})
    assert page.status_code == 200
    kpis = page.context["report"].kpis
    api = _measures(manager, **filters)
    assert kpis, "the page shows headline figures"
    for kpi in kpis:
        got = api[kpi["measure"].key]
        assert got["headline"] is True
        assert _number(got["value"]) == pytest.approx(_number(kpi["value"])), kpi["measure"].key
        assert _number(got["previous"]) == pytest.approx(_number(kpi["previous"])), kpi["measure"].key
        assert got["trend"] == kpi["trend"]
    # Every measure the page defines is there, with its definition, not only the headline ones.
    assert api["targets"]["headline"] is False and api["targets"]["definition"]


def test_measures_are_the_hand_worked_figures(history, manager, world):
    api = _measures(manager)
    assert api["arrivals"]["value"] == 10 and api["examinations"]["value"] == 3
    assert api["findings"]["value"] == 2 and api["hit_rate"]["value"] == pytest.approx(2 / 3)
    assert api["seized_value"]["value"] == 100000 and api["examinations"]["previous"] == 1
    heathrow = _measures(manager, port=world.port_b.pk)
    assert heathrow["arrivals"]["value"] == 1 and heathrow["examinations"]["value"] == 1


def test_another_agency_gets_only_its_own_figures(history, manager, police_manager, outsider_manager):
    police = _measures(police_manager)
    assert police["arrivals"]["value"] == 1  # its own subject, none of customs' ten
    assert police["examinations"]["value"] == 0 and police["seized_value"]["value"] == 0
    outsider = _measures(outsider_manager)
    assert outsider["arrivals"]["value"] == 0 and outsider["findings"]["value"] == 0
    # Naming another agency's rule as a filter does not reach its figures: refused like the page's export.
    bad = api_for(outsider_manager).get(reverse("report-measures"), {**QUERY, "rule": history.rule.pk})
    assert bad.status_code == 400 and "rule" in bad.content.decode()


def test_a_bad_filter_answers_400_naming_the_field(history, manager):
    client = api_for(manager)
    response = client.get(reverse("report-measures"), {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400 and "start" in response.content.decode()
    assert client.get(reverse("report-measures"), {"channel": "purple"}).status_code == 400


def test_roles_as_on_the_page(history, customs_analyst, port_officer, manager):
    assert api_for(customs_analyst).get(reverse("report-measures"), QUERY).status_code == 403
    assert api_for(port_officer).get(reverse("report-ledger"), QUERY).status_code == 403
    assert APIClient().get(reverse("report-measures")).status_code in {401, 403}


def test_tables_are_the_exports_rows(history, manager):
    response = api_for(manager).get(reverse("report-tables"), {**QUERY, "table": "seizures"})
    assert response.status_code == 200
    table = response.json()["table"]
    assert table["name"] == "seizures" and table["columns"][0]["key"] == "kind_label"
    assert table["rows"][0]["kind_label"] == "Cocaine" and table["rows"][0]["value"] == 100000
    assert api_for(manager).get(reverse("report-tables"), {"table": "nope"}).status_code == 404


def test_the_ledger(history, manager, outsider_manager, client_for):
    response = api_for(manager).get(reverse("report-ledger"), QUERY)
    assert response.status_code == 200
    body = response.json()
    rows = [r for r in body["rows"]["rows"] if r["kind"] == "Rule"]
    assert [(r["name"], r["version"]) for r in rows] == [(history.rule.name, "v1")]
    assert rows[0]["hits"] == 3 and rows[0]["examinations"] == 2 and rows[0]["findings"] == 1
    assert body["random_control"]["examinations"] == 1 and body["random_control"]["findings"] == 1
    # The page's ledger, the same rows.
    page = client_for(manager).get(reverse("reports:effectiveness"), QUERY)
    page_rows = page.context["book_table"].rows
    assert [(r["name"], r["hits"], r["examinations"]) for r in page_rows] == [
        (r["name"], r["hits"], r["examinations"]) for r in body["rows"]["rows"]
    ]
    other = api_for(outsider_manager).get(reverse("report-ledger"), QUERY).json()
    assert history.rule.name not in str(other) and other["random_control"]["examinations"] == 0


def test_exports_are_the_pages_files_and_logged_as_the_page_logs_them(history, manager, client_for):
    """Report files are figures only: the page writes no access-log entry for them, nor does the API."""
    client = api_for(manager)
    before = AccessLogEntry.objects.count()
    csv = client.get(reverse("report-export"), {**QUERY, "table": "summary", "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "attachment" in csv["Content-Disposition"] and csv["Cache-Control"] == "no-store"
    page_csv = client_for(manager).get(
        reverse("reports:export"), {**QUERY, "table": "summary", "format": "csv"}
    )
    assert csv.content == page_csv.content
    assert "Examinations,3,1,2" in csv.content.decode("utf-8-sig")
    xlsx = client.get(reverse("report-export"), {**QUERY, "table": "ledger", "format": "xlsx"})
    assert xlsx.status_code == 200
    text = " ".join(
        str(c.value) for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows() for c in row
    )
    assert history.rule.name in text and "SECRET" not in text
    assert AccessLogEntry.objects.count() == before  # as many entries as the page's exports write: none
    assert client.get(reverse("report-export"), {"table": "nope"}).status_code == 404
    assert client.get(reverse("report-export"), {"format": "pdf"}).status_code == 404
    bad = client.get(reverse("report-export"), {"start": "2026-03-10", "end": "2026-03-01"})
    assert bad.status_code == 400 and "start" in bad.content.decode()
    assert "json" in bad["Content-Type"]  # an error is not a file


def test_pdf_and_export_need_the_export_role(history, manager, world):
    from apps.agencies.roles import Role
    from tests.factories import member

    auditor = member("audrey", world.customs, Role.AUDITOR)  # reads reports, may not export them
    assert api_for(auditor).get(reverse("report-measures"), QUERY).status_code == 200
    assert api_for(auditor).get(reverse("report-export"), QUERY).status_code == 403
    assert api_for(auditor).get(reverse("report-pdf"), QUERY).status_code == 403
    pdf = api_for(manager).get(reverse("report-pdf"), QUERY)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
