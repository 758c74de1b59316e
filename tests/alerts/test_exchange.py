"""Export and import of alerts: what leaves (and what never does), the access log, idempotent import,
bad bundles refused by name with nothing half-stored, and the analyst's actions as handling allows."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.alerts import services, stix
from apps.alerts.models import IncomingAlert, OutboundObject, PartnerSighting
from apps.compliance.models import AccessLogEntry
from apps.intake.models import SubjectKind
from apps.targeting.models import HandlingCode, Target, TargetState
from apps.watchlists.models import Watchlist
from tests.alerts.conftest import assert_valid_stix
from tests.alerts.world import CONTAINER, examine, seed_site
from tests.targeting.factories import TravellerFactory

EXT = stix.EXTENSION_ID


def _grouping(bundle):
    return next(o for o in bundle["objects"] if o["type"] == "grouping")


def _partner_bundle(sender_name="Belgian Customs", **props):
    """A bundle as the partner's installation would write it (our own writer, another identity)."""
    sender = stix.identity_for(sender_name)
    base = {
        "subject_kind": "consignment",
        "risk_area": "narcotics",
        "containers": [CONTAINER],
        "priority": 70,
    }
    grouping = stix.alert_grouping(
        stix_id=None, sender=sender, name=f"{props.get('risk_area', 'narcotics').capitalize()} alert",
        description=props.pop("description", "Cocaine in machine parts"), properties={**base, **props}, markings=stix.handling_markings("act"),
    )  # fmt: skip
    return stix.bundle_of([grouping], sender)


def test_export_sends_what_sharing_allows_valid_stix_and_logged(site):
    row = services.export_target(
        actor=site.supervisor, target=site.target, partner=site.partner, reason="Transhipment via Antwerp"
    )
    bundle = row.bundle
    assert_valid_stix(bundle)
    grouping = _grouping(bundle)
    ext = grouping["extensions"][EXT]
    assert ext["containers"] == [CONTAINER] and ext["risk_area"] == "narcotics"
    assert ext["vessel_imo"] == "9321483" and ext["customs_procedure"] == "4000"
    # "may act": TLP:AMBER+STRICT, no "information only" marking.
    assert grouping["object_marking_refs"] == [stix.TLP["amber+strict"]]
    # The analyst's free words (a "person" reason) never leave: the partner reads the briefing.
    assert "paid in cash" not in str(bundle)
    entry = AccessLogEntry.objects.get(action="disclose", object_id=str(site.target.pk))
    assert entry.user == site.supervisor and "Belgian Customs" in entry.disclosed_to
    assert entry.purpose_text == "Transhipment via Antwerp" and grouping["id"] in entry.summary
    # Sent again: a new version of the same alert.
    again = services.export_target(
        actor=site.supervisor, target=site.target, partner=site.partner, reason="Update"
    )
    assert again.stix_id == row.stix_id and again.modified > row.modified


def test_only_a_supervisor_exports_and_only_what_is_shared(site, db):
    with pytest.raises(PermissionDenied):
        services.export_target(actor=site.analyst, target=site.target, partner=site.partner, reason="x")
    other = seed_site(code="NLC", partner_code="FRC", partner_name="French Customs", with_target=False)
    from apps.targeting.services import nominate

    unshared, _ = nominate(
        actor=site.analyst, subject=site.subject, risk_area="revenue", reasons=["Undervalued"]
    )
    with pytest.raises(PermissionDenied, match="not shared with BEC"):
        services.export_target(actor=site.supervisor, target=unshared, partner=site.partner, reason="x")
    from django.http import Http404

    with pytest.raises(Http404):  # another centre's partner is not ours to send to
        services.export_target(actor=site.supervisor, target=site.target, partner=other.partner, reason="x")
    assert not OutboundObject.objects.exists()


def test_personal_data_only_where_the_legal_basis_allows_and_masked_never(db):
    site = seed_site(code="CUS", partner_code="BEC", partner_name="Belgian Customs", with_target=False)
    from apps.targeting.services import nominate, share_target

    traveller = TravellerFactory(source=site.source, owner_agency=site.customs, port=site.port,
                                 title="IVANOVA, Maria", facts={"document_number": "P7654321", "nationality": "RU"})  # fmt: skip
    target, _ = nominate(
        actor=site.analyst, subject=traveller, risk_area="narcotics", reasons=["Courier profile"]
    )
    share_target(actor=site.analyst, target=target, agency=site.foreign, code=HandlingCode.SEE)
    first = services.export_target(
        actor=site.supervisor, target=target, partner=site.partner, reason="Courier"
    )
    ext = _grouping(first.bundle)["extensions"][EXT]
    assert ext["traveller"] == {"name": "IVANOVA, Maria", "document_number": "P7654321", "nationality": "RU"}
    assert stix.NO_ACTION in _grouping(first.bundle)["object_marking_refs"]  # "may see": information only
    assert_valid_stix(first.bundle)
    # Depersonalised (past the source's period): nothing of the person leaves.
    type(traveller).objects.filter(pk=traveller.pk).update(received_at=timezone.now() - timedelta(days=400))
    target.subject.refresh_from_db()
    masked = services.export_target(
        actor=site.supervisor, target=target, partner=site.partner, reason="Again"
    )
    text = str(masked.bundle)
    assert (
        "IVANOVA" not in text
        and "P7654321" not in text
        and "traveller" not in _grouping(masked.bundle)["extensions"][EXT]
    )
    assert (
        "personal data withheld"
        in AccessLogEntry.objects.filter(action="disclose").order_by("-pk").first().summary
    )


def test_import_is_idempotent_and_a_newer_version_updates(site):
    bundle = _partner_bundle()
    first = services.import_bundle(partner=site.partner, data=bundle)
    replay = services.import_bundle(partner=site.partner, data=copy.deepcopy(bundle))
    assert len(first.created) == 1 and replay.unchanged == first.created and not replay.created
    assert IncomingAlert.objects.count() == 1
    newer = copy.deepcopy(bundle)
    grouping = _grouping(newer)
    grouping["modified"] = (timezone.now() + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    grouping["extensions"][EXT]["priority"] = 95
    result = services.import_bundle(partner=site.partner, data=newer)
    alert = IncomingAlert.objects.get()
    assert result.updated and alert.versions == 2 and alert.properties["priority"] == 95


@pytest.mark.parametrize(
    ("spoil", "named"),
    [
        (lambda b: b.update(raw="{not json"), "(body)"),
        (lambda b: _grouping(b).pop("created"), "created"),
        (lambda b: _grouping(b)["extensions"].update({"extension-definition--11111111-2222-4333-8444-555555555555": {"extension_type": "property-extension"}}), "extensions.extension-definition--1111"),
        (lambda b: _grouping(b)["extensions"][EXT].update(color="red"), f"extensions.{EXT}.color"),
        (lambda b: _grouping(b)["extensions"][EXT].update(risk_area="piracy"), f"extensions.{EXT}.risk_area"),
        (lambda b: b["objects"].append({"type": "malware", "id": "malware--0b6b9d2f-1c64-4c5a-9a52-5d36e8e5f1a2"}), "type"),
        # A handling marking of the partner's own, unknown here: it may forbid action, so nothing is stored.
        (lambda b: _grouping(b)["object_marking_refs"].append("marking-definition--0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"), "object_marking_refs"),
    ],
)  # fmt: skip
def test_a_bad_bundle_is_refused_naming_object_and_property_and_nothing_is_stored(site, spoil, named):
    bundle = _partner_bundle()
    good = copy.deepcopy(_grouping(bundle))
    good["id"] = "grouping--6f0e2b1a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    bundle["objects"].insert(0, good)  # a good alert first: it must not be stored either
    spoil(bundle)
    with pytest.raises(stix.BundleRefused) as refused:
        services.import_bundle(partner=site.partner, data=bundle.get("raw", bundle))
    assert refused.value.prop.startswith(named), str(refused.value)
    assert not IncomingAlert.objects.exists()


def test_handling_decides_the_analysts_actions(site):
    information = _partner_bundle()
    _grouping(information)["object_marking_refs"] = [stix.TLP["amber+strict"], stix.NO_ACTION]
    services.import_bundle(partner=site.partner, data=information)
    alert = IncomingAlert.objects.get()
    assert not alert.may_act
    with pytest.raises(PermissionDenied, match="information only"):
        services.turn_into_target(actor=site.analyst, alert=alert, subject_id=site.subject.pk)
    services.attach_to_subject(actor=site.analyst, alert=alert, subject_id=site.subject.pk)
    assert IncomingAlert.objects.get().status == "attached"

    # TLP:RED (2.0, or 1.0 as older tools write it): for the named recipients only, so information only.
    red = _partner_bundle()
    _grouping(red)["object_marking_refs"] = ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]
    services.import_bundle(partner=site.partner, data=red)
    assert not IncomingAlert.objects.get(stix_id=_grouping(red)["id"]).may_act

    consent = _partner_bundle()
    _grouping(consent)["object_marking_refs"] = [stix.TLP["amber"], stix.CONSENT]
    services.import_bundle(partner=site.partner, data=consent)
    alert = IncomingAlert.objects.get(stix_id=_grouping(consent)["id"])
    with pytest.raises(PermissionDenied, match="consent"):
        services.turn_into_target(actor=site.analyst, alert=alert, subject_id=site.subject.pk)
    services.record_consent(
        actor=site.supervisor, alert=alert, note="Agreed by phone with duty officer Peeters"
    )
    alert.refresh_from_db()
    # (site.subject already has the centre's own open narcotics target: nobody works a subject twice.)
    another = TravellerFactory(source=site.source, owner_agency=site.customs, kind=SubjectKind.CONSIGNMENT)
    target = services.turn_into_target(actor=site.analyst, alert=alert, subject_id=another.pk)
    assert target.state == TargetState.NOMINATED and "Belgian Customs" in target.reasons[0]["text"]


def test_add_to_watchlist_through_the_watchlists_service(site):
    from apps.agencies.roles import Role
    from tests.factories import member

    keeper = member("rita", site.customs, Role.RISK_MANAGER)
    watchlist = Watchlist.objects.create(name="Partner lookouts", owner_agency=site.customs)
    services.import_bundle(
        partner=site.partner, data=_partner_bundle(vessel_imo="9321483", vessel_name="MSC ALINA")
    )
    alert = IncomingAlert.objects.get()
    with pytest.raises(PermissionDenied):  # an analyst keeps no watchlist
        services.add_to_watchlist(actor=site.analyst, alert=alert, watchlist_id=watchlist.pk)
    entry = services.add_to_watchlist(actor=keeper, alert=alert, watchlist_id=watchlist.pk)
    assert entry.kind == "vessel" and entry.name == "MSC ALINA" and entry.watchlist == watchlist
    assert IncomingAlert.objects.get().status == "watchlisted"


def test_the_loop_closes_with_a_sighting_to_the_partner(site, django_capture_on_commit_callbacks):
    """A partner's alert turned into a target and examined: the outcome goes back as a sighting, once,
    without the officer's notes, and the disclosure is in the access log."""
    services.import_bundle(partner=site.partner, data=_partner_bundle())
    alert = IncomingAlert.objects.get()
    other = TravellerFactory(source=site.source, owner_agency=site.customs, kind=SubjectKind.CONSIGNMENT,
                             port=site.port, facts={"containers": [CONTAINER]})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        target = services.turn_into_target(actor=site.analyst, alert=alert, subject_id=other.pk)
        examine(site, Target.objects.get(pk=target.pk))
    sent = OutboundObject.objects.get(kind="sighting")
    assert_valid_stix(sent.bundle)
    seen = next(o for o in sent.bundle["objects"] if o["type"] == "sighting")
    assert seen["sighting_of_ref"] == alert.stix_id
    assert seen["extensions"][EXT]["outcome"] == "seizure" and seen["extensions"][EXT]["finding"] is True
    assert "Officer's own words" not in str(sent.bundle)
    assert AccessLogEntry.objects.filter(
        action="disclose", object_id=str(target.pk), user=site.analyst
    ).exists()
    # The partner's side of the loop: its installation reads the sighting of the alert it sent.
    assert not PartnerSighting.objects.exists()
