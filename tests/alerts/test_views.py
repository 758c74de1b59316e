"""The alert pages: the supervisor sends a target from the Sent page, everyone who works alerts reads the
partners' status, and a target page shows what came back."""

from __future__ import annotations

from apps.alerts.models import OutboundObject, Partner, PartnerSighting
from apps.compliance.models import AccessLogEntry


def test_a_supervisor_sends_a_target_from_the_sent_page(site, client_for):
    page = client_for(site.supervisor).get(f"/alerts/sent/?target={site.target.reference}")
    assert page.status_code == 200 and site.target.reference.encode() in page.content
    answer = client_for(site.supervisor).post(
        "/alerts/sent/",
        {"target": site.target.reference, "partner": site.partner.pk, "reason": "Onward to Antwerp"},
    )
    assert answer.status_code == 302
    row = OutboundObject.objects.get()
    assert row.sent_by == site.supervisor and row.reason == "Onward to Antwerp"
    entry = AccessLogEntry.objects.get(action="disclose")
    assert entry.purpose == "risk_analysis" and entry.purpose_text == "Onward to Antwerp"
    listed = client_for(site.supervisor).get("/alerts/sent/").content.decode()
    assert row.stix_id in listed and "in their collection here" in listed


def test_an_analyst_may_not_send_and_is_told_why(site, client_for):
    page = client_for(site.analyst).post(
        "/alerts/sent/", {"target": site.target.reference, "partner": site.partner.pk, "reason": "x"}
    )
    assert page.status_code == 200 and b"alert.export" in page.content
    assert not OutboundObject.objects.exists()


def test_partners_status_and_the_target_pages_card(site, client_for):
    Partner.objects.filter(pk=site.partner.pk).update(
        taxii_api_root="http://127.0.0.1:9/taxii/",
        taxii_collection="x",
        failures=2,
        last_error="push: refused",
    )
    page = client_for(site.analyst).get("/alerts/partners/").content.decode()
    assert (
        "failing" in page and "push: refused" in page and "Exchange now" not in page
    )  # a supervisor's button
    assert "Exchange now" in client_for(site.supervisor).get("/alerts/partners/").content.decode()
    # The target page offers the supervisor to send it (shared with the partner), and shows a sighting.
    target_page = client_for(site.supervisor).get(f"/targets/{site.target.pk}/").content.decode()
    assert "Send as an alert" in target_page
    sent = OutboundObject.objects.create(
        partner=site.partner, kind="alert", stix_id="grouping--6f0e2b1a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        modified="2026-12-01T00:00:00.000000Z", bundle={}, target=site.target, summary="x",
    )  # fmt: skip
    PartnerSighting.objects.create(
        partner=site.partner, outbound=sent, target=site.target, stix_id="sighting--1", modified=sent.added_at,
        outcome="seizure", finding=True, description="Examined: Physical examination; Seizure.",
    )  # fmt: skip
    target_page = client_for(site.analyst).get(f"/targets/{site.target.pk}/").content.decode()
    assert "Partners' examinations" in target_page and "Belgian Customs" in target_page
