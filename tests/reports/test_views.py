"""Report pages, exports, the PDF, the weekly e-mail and rule reviews, on the known history."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from apps.reports.models import ReportSubscription, RuleReview
from apps.reports.services import TABLES
from apps.reports.weekly import send_weekly_reports
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
QUERY = f"start={PERIOD.start}&end={PERIOD.end}"
SECRETS = (b"SECRET-TITLE", b"SECRET-ID")


def test_pages_render_for_a_manager(history, manager, client_for):
    client = client_for(manager)
    page = client.get(f"{reverse('reports:home')}?{QUERY}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'role="img"' in html and "<desc" in html and "Show the figures" in html
    assert "Hit rate, random control" in html and "What these figures mean" in html
    assert "100,000" in html  # value seized
    for name in ("effectiveness", "statistics", "subscriptions"):
        assert client.get(f"{reverse(f'reports:{name}')}?{QUERY}").status_code == 200
    assert client.get(f"{reverse('reports:rule', args=[history.rule.pk])}?{QUERY}").status_code == 200
    for secret in SECRETS:
        assert secret not in page.content


def test_analyst_may_not_see_reports(history, customs_analyst, client_for):
    assert client_for(customs_analyst).get(reverse("reports:home")).status_code == 403


def test_filters_slice_the_page(history, manager, client_for, world):
    page = client_for(manager).get(f"{reverse('reports:home')}?{QUERY}&port={world.port_b.pk}&channel=yellow")
    assert page.status_code == 200
    assert "port: Heathrow" in page.content.decode()
    bad = client_for(manager).get(f"{reverse('reports:home')}?start=2026-03-10&end=2026-03-01")
    assert bad.status_code == 200 and "must start on or before" in bad.content.decode()


def test_every_table_exports_as_csv_and_xlsx_without_personal_data(history, manager, client_for):
    client = client_for(manager)
    for name in TABLES:
        csv_response = client.get(f"{reverse('reports:export')}?table={name}&format=csv&{QUERY}")
        assert csv_response.status_code == 200, name
        assert csv_response["Content-Type"].startswith("text/csv")
        for secret in SECRETS:
            assert secret not in csv_response.content, name
        xlsx = client.get(f"{reverse('reports:export')}?table={name}&format=xlsx&{QUERY}")
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
        assert "SECRET" not in text, name
    summary = client.get(f"{reverse('reports:export')}?table=summary&format=csv&{QUERY}").content.decode(
        "utf-8-sig"
    )
    assert "Examinations,3,1,2" in summary
    seizures = client.get(f"{reverse('reports:export')}?table=seizures&format=csv&{QUERY}").content.decode(
        "utf-8-sig"
    )
    assert "Cocaine,1,1,2.5,kg,100000.0" in seizures
    assert client.get(f"{reverse('reports:export')}?table=nope&format=csv").status_code == 404


def test_outsider_exports_zeros(history, outsider_manager, client_for):
    client = client_for(outsider_manager)
    summary = client.get(f"{reverse('reports:export')}?table=summary&format=csv&{QUERY}").content.decode(
        "utf-8-sig"
    )
    assert "Examinations,0,0,0" in summary and "Arrivals,0,0,0" in summary
    page = client.get(f"{reverse('reports:effectiveness')}?{QUERY}")
    assert history.rule.name.encode() not in page.content
    assert client.get(f"{reverse('reports:rule', args=[history.rule.pk])}").status_code == 404


def test_pdf_renders_with_charts(history, manager, client_for):
    response = client_for(manager).get(f"{reverse('reports:pdf')}?{QUERY}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF") and len(body) > 5000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "reports-report.pdf").write_bytes(body)
    if shutil.which("pdftoppm"):
        for page in (1, 2):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(SCREENSHOTS / "reports-report.pdf"),
                    str(SCREENSHOTS / f"reports-pdf-page{page}"),
                ],
                check=True,
                timeout=60,
            )
        assert (SCREENSHOTS / "reports-pdf-page1.png").stat().st_size > 10_000


def test_weekly_report_goes_to_subscribers(history, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    manager.email = "maria@customs.example"
    manager.save()
    ReportSubscription.objects.create(user=manager)
    from datetime import date

    from apps.reports.tasks import send_weekly_report

    assert send_weekly_reports(today=date(2026, 3, 9)) == 1
    [message] = mail.outbox
    assert message.to == ["maria@customs.example"]
    assert "Examinations: 3" in message.body
    _name, content, kind = message.attachments[0]
    assert kind == "application/pdf" and content.startswith(b"%PDF")
    assert ReportSubscription.objects.get().last_sent_at is not None
    assert send_weekly_report.name == "reports.send_weekly_report"


def test_subscriptions_are_kept_per_agency(history, manager, client_for, outsider_manager):
    manager.email = "maria@customs.example"
    manager.save()
    client = client_for(manager)
    assert client.post(reverse("reports:subscriptions"), {"user": manager.pk}).status_code == 302
    subscription = ReportSubscription.objects.get()
    other = client_for(outsider_manager)
    assert other.post(reverse("reports:subscriptions"), {"stop": subscription.pk}).status_code == 404
    assert (
        other.post(reverse("reports:subscriptions"), {"user": manager.pk}).status_code == 200
    )  # not a choice
    assert ReportSubscription.objects.count() == 1


def test_rule_review_is_recorded_by_the_owner_risk_manager(history, risk_manager, manager, client_for):
    url = f"{reverse('reports:rule', args=[history.rule.pk])}?{QUERY}"
    data = {
        "reviewed_on": "2026-03-12",
        "outcome": "modify",
        "rationale": "Precision halved; narrow to reefers.",
    }
    assert client_for(manager).post(url, data).status_code == 403
    response = client_for(risk_manager).post(url, data)
    assert response.status_code == 302
    review = RuleReview.objects.get()
    assert review.outcome == "modify" and review.reviewer == risk_manager
    assert review.figures["versions"][0]["examinations"] == 2
    page = client_for(risk_manager).get(url).content.decode()
    assert "Precision halved" in page and "Annual review due" not in page
