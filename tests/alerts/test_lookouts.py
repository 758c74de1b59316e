"""An intelligence item sent abroad: a watchlist entry goes to a partner as a STIX lookout by the same
rules as a target (the list shared with the partner, handling as markings, remarks and card hashes never,
every disclosure logged), from the entry's page and the API; at the partner it becomes an incoming alert
that a risk manager adds to a watchlist of theirs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.agencies.models import Agency, AgencyKind
from apps.agencies.roles import Role
from apps.alerts import services, stix
from apps.alerts.models import IncomingAlert, OutboundObject
from apps.compliance.models import AccessLogEntry
from apps.watchlists.models import Watchlist
from apps.watchlists.services import create_entry, share_watchlist
from tests.alerts.conftest import assert_valid_stix
from tests.alerts.test_exchange import _grouping
from tests.alerts.world import seed_site
from tests.factories import member

EXT = stix.EXTENSION_ID
PERSON = {
    "id": "NL-2026-17", "kind": "person", "name": "Jan DE VRIES", "aliases": ["Johnny Vries"],
    "dates_of_birth": ["1979-03-14"], "nationalities": ["NL"],
    "documents": [{"type": "passport", "number": "NX4815162", "country": "NL"}],
    "remarks": "Informant says he carries for the Kovac network", "handling_code": "examine",
}  # fmt: skip


@pytest.fixture
def lookout(site):
    watchlist = Watchlist.objects.create(name="Couriers", owner_agency=site.customs, risk_area="narcotics")
    entry = create_entry(actor=None, watchlist=watchlist, data=PERSON)
    share_watchlist(actor=None, watchlist=watchlist, agency=site.foreign)
    return entry


def test_a_shared_entry_leaves_as_a_valid_lookout_without_remarks_and_logged(site, lookout):
    row = services.export_entry(
        actor=site.supervisor, entry=lookout, partner=site.partner, reason="Flies to BRU"
    )
    assert_valid_stix(row.bundle)
    grouping = _grouping(row.bundle)
    ext = grouping["extensions"][EXT]
    assert ext["subject_kind"] == "traveller" and ext["risk_area"] == "narcotics"
    assert ext["lookout"]["name"] == "Jan DE VRIES" and ext["lookout"]["dates_of_birth"] == ["1979-03-14"]
    assert ext["lookout"]["documents"] == [{"type": "passport", "number": "NX4815162", "country": "NL"}]
    assert ext["traveller"]["document_number"] == "NX4815162"
    # "examine": the partner may act (TLP:AMBER+STRICT, no statement); the remarks never leave.
    assert grouping["object_marking_refs"] == [stix.TLP["amber+strict"]]
    assert "Kovac" not in str(row.bundle) and "Informant" not in str(row.bundle)
    entry = AccessLogEntry.objects.get(action="disclose", object_type="watchlist_entry")
    assert entry.object_id == str(lookout.pk) and entry.user == site.supervisor
    assert "Belgian Customs" in entry.disclosed_to and entry.purpose_text == "Flies to BRU"
    assert grouping["id"] in entry.summary and "remarks" in entry.summary
    # Sent again: a new version of the same lookout.
    again = services.export_entry(actor=site.supervisor, entry=lookout, partner=site.partner, reason="Update")
    assert again.stix_id == row.stix_id and again.modified > row.modified


@pytest.mark.parametrize(
    ("handling", "markings", "action"),
    [("notify", ["amber+strict", stix.NO_ACTION], "notify"), ("hold", ["amber+strict", stix.CONSENT], "examine")],
)  # fmt: skip
def test_the_entrys_handling_becomes_the_markings(site, lookout, handling, markings, action):
    type(lookout).objects.filter(pk=lookout.pk).update(handling_code=handling)
    row = services.export_entry(actor=site.supervisor, entry=lookout, partner=site.partner, reason="x")
    grouping = _grouping(row.bundle)
    assert grouping["object_marking_refs"] == [stix.TLP.get(m, m) for m in markings]
    assert grouping["extensions"][EXT]["requested_action"] == action


def test_what_may_not_leave_is_refused_and_nothing_is_sent(site, lookout, db):
    with pytest.raises(PermissionDenied):  # only a supervisor sends
        services.export_entry(actor=site.analyst, entry=lookout, partner=site.partner, reason="x")
    private = Watchlist.objects.create(name="Not shared", owner_agency=site.customs, risk_area="narcotics")
    unshared = create_entry(actor=None, watchlist=private, data={**PERSON, "id": "X-1"})
    with pytest.raises(PermissionDenied, match="not shared with BEC"):
        services.export_entry(actor=site.supervisor, entry=unshared, partner=site.partner, reason="x")
    police = Agency.objects.create(code="POL", name="Police", kind=AgencyKind.POLICE)
    theirs = Watchlist.objects.create(name="Police lookouts", owner_agency=police, risk_area="narcotics")
    borrowed = create_entry(actor=None, watchlist=theirs, data={**PERSON, "id": "P-1"})
    share_watchlist(actor=None, watchlist=theirs, agency=site.customs)
    share_watchlist(actor=None, watchlist=theirs, agency=site.foreign)
    with pytest.raises(PermissionDenied, match="another agency"):  # the owner decides, not us
        services.export_entry(actor=site.supervisor, entry=borrowed, partner=site.partner, reason="x")
    card = create_entry(actor=None, watchlist=lookout.watchlist, data={"id": "C-1", "kind": "payment_card",
                        "name": "4111111111111111"})  # fmt: skip
    with pytest.raises(PermissionDenied, match="never sent"):
        services.export_entry(actor=site.supervisor, entry=card, partner=site.partner, reason="x")
    type(lookout).objects.filter(pk=lookout.pk).update(expires_on=dt.date.today() - dt.timedelta(days=1))
    lookout.refresh_from_db()
    with pytest.raises(ValidationError, match="no longer in force"):
        services.export_entry(actor=site.supervisor, entry=lookout, partner=site.partner, reason="x")
    other = seed_site(code="NLC", partner_code="FRC", partner_name="French Customs", with_target=False)
    with pytest.raises(Http404):  # another centre's partner is not ours to send to
        services.export_entry(actor=other.supervisor, entry=unshared, partner=site.partner, reason="x")
    assert (
        not OutboundObject.objects.exists() and not AccessLogEntry.objects.filter(action="disclose").exists()
    )


def test_at_the_partner_the_lookout_becomes_an_alert_a_risk_manager_puts_on_a_watchlist(
    site, lookout, settings
):
    row = services.export_entry(actor=site.supervisor, entry=lookout, partner=site.partner, reason="x")
    settings.RATC_ALERTS_IDENTITY = "Belgian Customs"  # read as the partner's installation reads it
    result = services.import_bundle(partner=site.partner, data=row.bundle)
    assert result.created == [row.stix_id]
    alert = IncomingAlert.objects.get()
    assert alert.lookout["name"] == "Jan DE VRIES" and alert.has_personal_data and alert.may_act
    keeper = member("rita", site.customs, Role.RISK_MANAGER)
    theirs = Watchlist.objects.create(name="Partner lookouts", owner_agency=site.customs)
    added = services.add_to_watchlist(actor=keeper, alert=alert, watchlist_id=theirs.pk)
    assert added.kind == "person" and added.name == "Jan DE VRIES" and added.watchlist == theirs
    assert added.dates_of_birth[0] == {
        "year": 1979,
        "month": 3,
        "day": 14,
        "year_to": None,
        "approximate": False,
    }
    assert added.documents[0]["number"] == "NX4815162" and added.nationalities == ["NL"]
    assert added.aliases[0]["name"] == "Johnny Vries"


def test_a_malformed_lookout_is_refused_naming_the_property(site, lookout, settings):
    row = services.export_entry(actor=site.supervisor, entry=lookout, partner=site.partner, reason="x")
    settings.RATC_ALERTS_IDENTITY = "Belgian Customs"
    _grouping(row.bundle)["extensions"][EXT]["lookout"]["colour"] = "red"
    with pytest.raises(stix.BundleRefused) as refused:
        services.import_bundle(partner=site.partner, data=row.bundle)
    assert refused.value.prop == f"extensions.{EXT}.lookout.colour"
    assert not IncomingAlert.objects.exists()


def test_a_supervisor_sends_from_the_entry_page_and_the_api(site, lookout, client_for):
    page = client_for(site.supervisor).get(f"/watchlists/entries/{lookout.pk}/").content.decode()
    assert 'data-testid="send-lookout"' in page and "Belgian Customs" in page
    assert (
        'data-testid="send-lookout"'
        not in client_for(site.analyst).get(f"/watchlists/entries/{lookout.pk}/").content.decode()
    )
    answer = client_for(site.supervisor).post(
        f"/alerts/lookouts/{lookout.pk}/send/", {"partner": site.partner.pk, "reason": "Flies to BRU"}
    )
    assert answer.status_code == 302 and answer.url == "/alerts/sent/"
    assert OutboundObject.objects.get().watchlist_entry == lookout
    assert lookout.external_id in client_for(site.supervisor).get("/alerts/sent/").content.decode()

    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(site.analyst)
    body = {"partner": site.partner.pk, "watchlist_entry": lookout.pk, "reason": "API"}
    assert api.post("/api/v1/alert-exports/", body, format="json").status_code == 403
    api.force_authenticate(site.supervisor)
    made = api.post("/api/v1/alert-exports/", body, format="json", HTTP_X_ACCESS_PURPOSE="partner_request")
    assert made.status_code == 201, made.content
    assert (
        made.json()["kind"] == "lookout" and made.json()["stix_id"] == OutboundObject.objects.first().stix_id
    )
    target = api.post("/api/v1/alert-exports/", {"partner": site.partner.pk, "target": site.target.pk,
                      "reason": "API"}, format="json")  # fmt: skip
    assert target.status_code == 201 and target.json()["kind"] == "alert"
    listed = api.get("/api/v1/alert-exports/").json()
    assert {r["kind"] for r in listed["results"]} == {"lookout", "alert"}
