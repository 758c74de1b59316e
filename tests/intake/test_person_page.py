"""One person, one page: the API and PNR records of a traveller (and a trader's records across sources)
read as one subject, each fact with its source and time, scoped to what the viewer's agency may see."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry
from apps.compliance.services import decide_unmask, request_unmask
from apps.intake.models import SourceKind, Subject, SubjectKey, SubjectLink
from apps.intake.normalise import fold, key_hash
from apps.intake.services import ingest_paths, parse_payload, store_messages
from apps.risk.models import Assessment
from apps.simulator.generators import Booking, FlightPlan, Person, paxlst, pnrgov
from apps.targeting.models import Target
from tests.factories import DataSourceFactory, member

SURNAME, GIVEN, BORN, DOCUMENT, LOCATOR = "ADEYEMI", "TOLU", date(1988, 2, 3), "A07731946", "QX7ZPL"


@pytest.fixture
def sources(world):
    """API owned by the police and shared with customs; PNR owned by customs and shared with nobody."""
    api = DataSourceFactory(owner_agency=world.police, kind=SourceKind.API, name="API (police)")
    pnr = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR, name="PNR (customs)")
    assign_perm("intake.view_datasource", world.customs.group, api)
    return {"api": api, "pnr": pnr}


def _store(source, name: str, text: str) -> None:
    result = parse_payload(text.encode(), name=name)
    assert not result.problems, result.problems
    store_messages(source=source, parsed=[(m, name) for m in result.messages])


@pytest.fixture
def trip(sources):
    """One traveller through the real intake: the carrier's API list and its PNR push for one flight.

    The PNR gives another nationality (and so another issuing country of the passport): the records
    still link by name and date of birth, and the two nationalities must both be shown.
    """
    departure = (timezone.now() + timedelta(hours=6)).replace(second=0, microsecond=0, tzinfo=None)
    flight = FlightPlan("BA", "75", "LOS", "LHR", departure, departure + timedelta(hours=6, minutes=30))
    expiry = date(2031, 5, 1)
    in_api = Person(SURNAME, GIVEN, "F", BORN, "NGA", DOCUMENT, expiry)
    in_pnr = Person(SURNAME, GIVEN, "F", BORN, "GBR", DOCUMENT, expiry)
    sent = departure - timedelta(hours=2)
    _store(sources["api"], "api.edi", paxlst(flight, [in_api], sent=sent, ref="API0001"))
    booking = Booking(LOCATOR, departure.date() - timedelta(days=2), "CA", [in_pnr], [2])
    _store(sources["pnr"], "pnr.edi", pnrgov(flight, [booking], sent=sent, ref="PNR0001"))
    travellers = Subject.objects.filter(kind="traveller")
    return {
        "api": travellers.get(source=sources["api"]),
        "pnr": travellers.get(source=sources["pnr"]),
    }


def traveller(source, *, document: str, born: str, received_at: datetime | None = None, flight: str = "XX1",
              doc_country: str = "NGA", **facts: Any) -> Subject:  # fmt: skip
    """A traveller record with the person keys intake gives (document, name + date of birth)."""
    subject = Subject.objects.create(
        kind="traveller", source=source, owner_agency=source.owner_agency, received_at=received_at or timezone.now(),
        external_id=f"{source.kind}:{flight}:{document}", title=f"{SURNAME}, Tolu (NGA) on {flight}",
        facts={"surname": SURNAME, "given_names": GIVEN, "date_of_birth": born, "document_number": document,
               "document_country": doc_country, "nationality": "NGA", "flight_number": flight, **facts},
    )  # fmt: skip
    SubjectKey.objects.create(subject=subject, key=key_hash("doc", f"{document}|{doc_country}"))
    SubjectKey.objects.create(subject=subject, key=key_hash("namedob", f"{SURNAME}|{GIVEN}|{born}"))
    return subject


def page(client, subject: Subject):
    response = client.get(reverse("intake:subject", args=[subject.pk]))
    assert response.status_code == 200
    return response.context["person"], response.content.decode()


def fact(person, label: str):
    sections = [*person.identity, *(s for j in person.journeys for s in j.sections)]
    return next(f for _, facts in sections for f in facts if f.label == label)


def test_api_and_pnr_of_one_traveller_are_one_page_with_each_facts_source(
    trip, sources, client_for, customs_analyst
):
    client = client_for(customs_analyst)
    person, body = page(client, trip["api"])
    assert person.title == f"{SURNAME}, Tolu (GBR)"  # the newest record's name: the PNR, stored last
    assert [(r.provenance.source, r.provenance.message) for r in person.records] == [
        ("PNR (customs)", "PNR (PNRGOV)"),
        ("API (police)", "API list (PAXLST)"),
    ]
    assert person.records[1].opened and person.records[0].reason == "same name and date of birth"
    assert all(r.provenance.sent_at is not None and r.provenance.received_at for r in person.records)

    # Agreed facts name every record once; the disagreement shows both values, each with its source.
    surname = fact(person, "Surname")
    assert surname.everywhere and [v.text for v in surname.values] == [SURNAME]
    nationality = fact(person, "Nationality")
    assert nationality.differs
    assert {v.text: [p.source for p in v.sources] for v in nationality.values} == {
        "GBR": ["PNR (customs)"],
        "NGA": ["API (police)"],
    }
    assert person.differing == ["Nationality", "Issued by"]
    booking = fact(person, "Booking")
    assert [(v.text, [p.source for p in v.sources]) for v in booking.values] == [
        (f"BA:{LOCATOR}", ["PNR (customs)"])
    ]
    [journey] = person.journeys  # one flight: the API list and the PNR are the same trip
    assert [p.source for p in journey.sources] == ["PNR (customs)", "API (police)"]
    for text in ("sources differ on nationality, issued by", "API (police)", "PNR (customs)", "NGA", "GBR",
                 "API list (PAXLST)", "PNR (PNRGOV)", LOCATOR):  # fmt: skip
        assert text in body

    # The other record's URL is the same page (only "the record you opened" moves).
    other, _ = page(client, trip["pnr"])
    assert [r.id for r in other.records] == [r.id for r in person.records]
    assert other.title == person.title and other.records[0].opened
    assert [(h, [(f.label, [(v.text, v.sources) for v in f.values]) for f in facts]) for h, facts in other.identity] == [
        (h, [(f.label, [(v.text, v.sources) for v in f.values]) for f in facts]) for h, facts in person.identity
    ]  # fmt: skip


def test_a_record_the_agency_may_not_see_is_never_merged_counted_or_hinted(trip, client_for, police_liaison):
    client = client_for(police_liaison)
    person, body = page(client, trip["api"])
    assert [r.id for r in person.records] == [trip["api"].pk]
    assert "1 record</span> from 1 source" in body
    for hint in ("PNR (customs)", "PNRGOV", LOCATOR, "GBR", "differs", "2 records", f"/{trip['pnr'].pk}/"):
        assert hint not in body, hint
    assert client.get(reverse("intake:subject", args=[trip["pnr"].pk])).status_code == 404


def test_an_invisible_record_does_not_bridge_two_visible_ones(
    sources, client_for, customs_analyst, police_liaison
):
    """A shares a passport with B, B shares name and birth date with C; the police may not see B."""
    a = traveller(sources["api"], document="P1000001", born="1988-02-03", flight="BA75")
    b = traveller(sources["pnr"], document="P1000001", born="1988-03-02", flight="BA75")
    c = traveller(sources["api"], document="P2000002", born="1988-03-02", flight="BA79")
    customs, _ = page(client_for(customs_analyst), a)
    assert {r.id for r in customs.records} == {a.pk, b.pk, c.pk}
    assert next(r for r in customs.records if r.id == c.pk).reason.startswith("through another record")
    police = client_for(police_liaison)
    assert [r.id for r in page(police, a)[0].records] == [a.pk]
    assert [r.id for r in page(police, c)[0].records] == [c.pk]


def test_a_depersonalised_record_stays_masked_in_the_merged_view(
    world, client_for, customs_analyst, customs_supervisor
):
    pnr = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR, depersonalise_after_days=182)
    old = traveller(pnr, document="OLD99887", born="1988-02-03", flight="XX1", booking_ref="ZQX9PL",
                    received_at=timezone.now() - timedelta(days=200))  # fmt: skip
    new = traveller(pnr, document="NEW11223", born="1988-02-03", flight="XX2")
    client = client_for(customs_analyst)
    for opened in (new, old):
        person, body = page(client, opened)
        assert {r.id for r in person.records} == {old.pk, new.pk}
        assert "OLD99887" not in body and "ZQX9PL" not in body
        assert "Traveller (depersonalised) on XX1" in body and "Depersonalised record" in body
        document = fact(person, "Document number")
        assert [(v.text, v.masked) for v in document.values] == [("NEW11223", False), ("•••", True)]
        assert not document.differs  # a masked value is no disagreement
        assert person.title == f"{SURNAME}, Tolu (NGA)"
        assert f'action="{reverse("compliance:ask_unmask", args=[old.pk])}"' in body

    ask = request_unmask(actor=customs_analyst, subject=old, reason="Seizure 2026/118 follow-up")
    decide_unmask(actor=customs_supervisor, unmask=ask, approve=True, reason="confirmed")
    person, body = page(client, new)
    assert "OLD99887" in body and fact(person, "Document number").differs


def test_nominate_or_the_open_target_by_role_and_scope(
    world, trip, client_for, customs_analyst, police_liaison
):
    nominate = reverse("targeting:nominate", args=[trip["api"].pk])  # the record arriving last, opened
    analyst = client_for(customs_analyst)
    _, body = page(analyst, trip["api"])
    assert f'href="{nominate}"' in body and "Open target" not in body
    auditor = member("dora", world.customs, Role.AUDITOR)  # may read the subject, not nominate
    assert 'data-testid="nominate"' not in page(client_for(auditor), trip["api"])[1]

    target = Target.objects.create(subject=trip["pnr"], owner_agency=world.customs, risk_area="narcotics")
    assessment = Assessment.objects.create(
        subject=trip["api"], score=81, channel="red", risk_area="narcotics"
    )
    _, body = page(client_for(customs_analyst), trip["api"])
    assert f'href="{reverse("targeting:detail", args=[target.pk])}"' in body
    assert f"Open target {target.reference}" in body and 'data-testid="nominate"' not in body
    assert f'href="{reverse("risk:assessment", args=[assessment.pk])}"' in body

    # The police may nominate, but neither see customs' target nor the assessments (no rule.view).
    _, body = page(client_for(police_liaison), trip["api"])
    assert f'href="{nominate}"' in body
    assert target.reference not in body and "Open target" not in body
    assert reverse("risk:assessment", args=[assessment.pk]) not in body


def test_every_record_read_is_logged_for_its_owner(world, trip, client_for, customs_analyst):
    page(client_for(customs_analyst), trip["pnr"])
    owners = dict(AccessLogEntry.objects.values_list("object_id", "data_owner_agency"))
    assert owners == {str(trip["pnr"].pk): world.customs.pk, str(trip["api"].pk): world.police.pk}


def _trader(source, name: str, ident: str = "GB123456789000") -> Subject:
    subject = Subject.objects.create(
        kind="trader", source=source, owner_agency=source.owner_agency, external_id=f"trader:{ident}",
        title=f"{name} ({ident})", received_at=timezone.now(),
        facts={"trader_id": ident, "trader_name": name, "trader_country": "GB"},
    )  # fmt: skip
    SubjectKey.objects.create(subject=subject, key=key_hash("trader", ident.upper()))
    return subject


def _declared(source, trader: Subject, reference: str, role: str = "importer") -> Subject:
    consignment = Subject.objects.create(
        kind="consignment", source=source, owner_agency=source.owner_agency, external_id=f"declaration:{reference}",
        title=f"Declaration {reference}", received_at=timezone.now(), facts={"declaration_id": reference},
    )  # fmt: skip
    SubjectLink.objects.create(from_subject=consignment, to_subject=trader, kind="party", reason=role)
    return consignment


def test_a_traders_records_across_sources_are_one_page(world, client_for, customs_analyst):
    declarations = DataSourceFactory(
        owner_agency=world.customs, kind=SourceKind.DECLARATION, name="Declarations"
    )
    manifests = DataSourceFactory(
        owner_agency=world.customs, kind=SourceKind.CARGO_MANIFEST, name="Manifests"
    )
    elsewhere = DataSourceFactory(owner_agency=world.bio, kind=SourceKind.DECLARATION, name="Plant health")
    in_declarations = _trader(declarations, "ACME LTD")
    in_manifests = _trader(manifests, "ACME LIMITED")
    hidden = _trader(elsewhere, "ACME PLANTS")
    shown = {_declared(declarations, in_declarations, "D1").pk, _declared(declarations, in_declarations, "D2").pk,
             _declared(manifests, in_manifests, "M1", "consignee").pk}  # fmt: skip
    _declared(elsewhere, hidden, "B1")
    # D1 names another trader too: the role shown is this trader's.
    SubjectLink.objects.create(
        from_subject=Subject.objects.get(external_id="declaration:D1"),
        to_subject=_trader(declarations, "BROKER LTD", "GB999"),
        kind="party",
        reason="declarant",
    )

    person, body = page(client_for(customs_analyst), in_manifests)
    assert {r.id for r in person.records} == {in_declarations.pk, in_manifests.pk}
    assert fact(person, "Name").differs and fact(person, "Trader id").everywhere
    assert {p.id for p in person.parties} == shown and person.party_count == 3
    assert sorted(p.role for p in person.parties) == ["consignee", "importer", "importer"]
    assert "ACME PLANTS" not in body and "Plant health" not in body and "Declaration B1" not in body


def test_the_shared_passenger_messages_show_a_shared_document_as_a_disagreement(
    shared_data, world, client_for, customs_analyst
):
    """In the public GTAS test messages one passport number stands for several names, in API and PNR:
    the page merges the records holding it and shows every name beside its source, never one of them."""
    api = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.API, name="API")
    pnr = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR, name="PNR")
    folder = shared_data / "passenger-messages"
    ingest_paths(actor=None, source=None, paths=[folder / "paxlst", folder / "pnrgov"])
    opened = Subject.objects.get(source=api, status="current", title__startswith="ZSCHIESCHAK")
    person, body = page(client_for(customs_analyst), opened)
    surnames = {v.text.upper(): {p.source for p in v.sources} for v in fact(person, "Surname").values}
    assert surnames["ZSCHIESCHAK"] == {"API"} and surnames["WAYNE"] == {"PNR"}
    assert fact(person, "Surname").differs and fact(person, "Document number").everywhere
    assert {r.provenance.source for r in person.records} == {"API", "PNR"} and pnr.pk
    assert all(r.status != "superseded" for r in person.records)
    assert fold(opened.facts["document_number"]) in fold(body)
