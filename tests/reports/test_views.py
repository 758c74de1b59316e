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
    assert bad.status_code == 400 and "must start on or before" in bad.content.decode()


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


def test_the_embedded_mode_sends_the_weekly_report_on_monday_at_six(history, manager, settings, monkeypatch):
    """No beat (``make demo``): the server's scheduler sends it on the registered crontab, once."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from apps.core import periodic
    from apps.core.schedule import job

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    manager.email = "maria@customs.example"
    manager.save()
    ReportSubscription.objects.create(user=manager)
    monkeypatch.setattr(periodic, "jobs", lambda: (job("reports-weekly"),))
    monday_six = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    for moment, sends in [
        (monday_six - timedelta(days=1), []),  # Sunday: the job's row is written, nothing is due
        (monday_six - timedelta(minutes=1), []),
        (monday_six, ["reports-weekly"]),
        (monday_six + timedelta(hours=1), []),  # once a week, not once an hour
    ]:
        with time_machine.travel(moment, tick=False):
            assert periodic.run_due() == sends
    [message] = mail.outbox
    assert message.to == ["maria@customs.example"] and "Examinations: 3" in message.body


def test_subscriptions_are_kept_per_agency(history, manager, client_for, outsider_manager):
    manager.email = "maria@customs.example"
    manager.save()
    client = client_for(manager)
    assert client.post(reverse("reports:subscriptions"), {"user": manager.pk}).status_code == 302
    subscription = ReportSubscription.objects.get()
    other = client_for(outsider_manager)
    assert other.post(reverse("reports:stop_subscription", args=[subscription.pk])).status_code == 404
    assert (
        other.post(reverse("reports:subscriptions"), {"user": manager.pk}).status_code == 400
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


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("end=0001-01-01", "end"),
        ("start=0001-01-01", "start"),
        ("end=9999-12-31", "end"),
        ("start=2026-13-45", "start"),
        ("start=abc&end=2026-03-01", "start"),
        ("port=abc", "port"),
    ],
)
def test_a_bad_period_or_filter_answers_400_naming_the_field(history, manager, client_for, query, field):
    client = client_for(manager)
    for name in ("home", "effectiveness", "statistics"):
        page = client.get(f"{reverse(f'reports:{name}')}?{query}")
        assert page.status_code == 400, (name, query)
        assert 'class="errorlist' in page.content.decode() or field in page.content.decode()
    rule = client.get(f"{reverse('reports:rule', args=[history.rule.pk])}?{query}")
    assert rule.status_code == 400
    # Exports and the PDF refuse instead of delivering another period than the one asked for.
    for url in (
        f"{reverse('reports:export')}?table=summary&format=csv&{query}",
        f"{reverse('reports:pdf')}?{query}",
    ):
        refused = client.get(url)
        assert refused.status_code == 400 and f"{field}:" in refused.content.decode(), url
        assert b'data-testid="error"' in refused.content
    post = dict(part.split("=") for part in query.split("&"))
    refused = client.post(reverse("reports:refresh"), post)
    assert refused.status_code == 400 and f"{field}:" in refused.content.decode()


def test_stopping_a_subscription_that_is_not_one_answers_404(history, manager, client_for):
    client = client_for(manager)
    for stop in ("abc", "²", "99999999999999999999999", "-1"):
        response = client.post(f"/reports/subscriptions/{stop}/stop/")
        assert response.status_code == 404, stop
    response = client.post(reverse("reports:stop_subscription", args=[2**63 - 1]))
    assert response.status_code == 404


def test_rule_names_are_text_in_the_pdf_never_markup(history, manager, client_for):
    """A rule name with reportlab markup made the PDF fail (``<b>``) or carry a live link (``<a href>``)."""
    from apps.risk.models import Rule

    Rule.objects.filter(pk=history.rule.pk).update(
        name='<b>x <a href="http://127.0.0.1/">y</a> & a long tail to force a paragraph cell'
    )
    response = client_for(manager).get(f"{reverse('reports:pdf')}?{QUERY}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert b"/URI" not in response.content and b"/Link" not in response.content
    for name in ("<b>x", '<a href="http://127.0.0.1/">y</a>'):
        Rule.objects.filter(pk=history.rule.pk).update(name=name)
        response = client_for(manager).get(f"{reverse('reports:pdf')}?{QUERY}&rule={history.rule.pk}")
        assert response.status_code == 200, name
        assert b"/URI" not in response.content, name


def test_csv_and_xlsx_exports_neutralise_formulas(history, manager, client_for):
    from apps.risk.models import Rule

    Rule.objects.filter(pk=history.rule.pk).update(name='=HYPERLINK("http://127.0.0.1/","x")')
    client = client_for(manager)
    body = client.get(f"{reverse('reports:export')}?table=ledger&format=csv&{QUERY}").content.decode(
        "utf-8-sig"
    )
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body and '"=HYPERLINK' not in body
    book = load_workbook(
        io.BytesIO(client.get(f"{reverse('reports:export')}?table=ledger&format=xlsx&{QUERY}").content)
    )
    values = [c.value for row in book.active.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(v.startswith("'=HYPERLINK") for v in values)
    assert not any(v.startswith("=") for v in values)
