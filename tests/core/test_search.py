"""The header search: one box finds targets and subjects by reference, name, document, container, vessel,
flight and trader; never another agency's record, never a masked traveller by what is masked; every
search asks for a purpose first and is logged with it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry
from apps.compliance.services import decide_unmask, request_unmask
from apps.intake.models import SubjectKey, SubjectLink
from apps.intake.normalise import key_hash
from apps.targeting.models import TargetShare, TargetState
from tests.factories import DataSourceFactory, member
from tests.targeting.factories import SubjectFactory, TargetFactory, TravellerFactory

TODAY = timezone.now().date().isoformat()


def _records(agency, port, *, surname: str, document: str, container: str, imo: str, flight: str, eori: str,
             declaration: str, received_at=None) -> SimpleNamespace:  # fmt: skip
    """One agency's traveller, consignment, vessel, flight and trader, with a target on the first two."""
    received_at = received_at or timezone.now()
    pnr = DataSourceFactory(owner_agency=agency, kind="pnr", depersonalise_after_days=182)
    cargo = DataSourceFactory(owner_agency=agency, kind="declaration")
    traveller = TravellerFactory(
        source=pnr, port=port, received_at=received_at, external_id=f"pnr:ABC123:{surname}",
        title=f"{surname}, Maria (RUS) on {flight}", facts={"document_number": document, "surname": surname},
    )  # fmt: skip
    SubjectKey.objects.create(subject=traveller, key=key_hash("doc", f"{document}|RUS"))
    consignment = SubjectFactory(source=cargo, port=port, external_id=f"declaration:{declaration}",
                                 title=f"Declaration {declaration} · HS 8471 · CN")  # fmt: skip
    SubjectKey.objects.create(subject=consignment, key=key_hash("container", container))
    vessel = SubjectFactory(source=cargo, kind="conveyance", external_id=f"imo:{imo}",
                            title=f"Vessel MSC OSCAR {surname} IMO {imo}")  # fmt: skip
    plane = SubjectFactory(source=pnr, kind="conveyance", external_id=f"flight:{flight}:{TODAY}",
                           title=f"Flight {flight} SVO→LHR {TODAY}")  # fmt: skip
    trader = SubjectFactory(source=cargo, kind="trader", external_id=f"trader:{eori}",
                            title=f"Acme {surname} Imports Ltd ({eori})")  # fmt: skip
    SubjectLink.objects.create(from_subject=consignment, to_subject=vessel, kind="carried_by")
    SubjectLink.objects.create(from_subject=traveller, to_subject=plane, kind="travels_on")
    return SimpleNamespace(
        traveller=traveller, consignment=consignment, vessel=vessel, plane=plane, trader=trader,
        on_traveller=TargetFactory(subject=traveller, owner_agency=agency),
        on_consignment=TargetFactory(subject=consignment, owner_agency=agency),
    )  # fmt: skip


@pytest.fixture
def ours(world):
    return _records(world.customs, world.port_a, surname="IVANOVA", document="P7654321", container="MSCU1234567",
                    imo="9703291", flight="SU2580", eori="GB123456789000", declaration="24GB0000000001234")  # fmt: skip


@pytest.fixture
def theirs(world):
    """The biosecurity agency's own records, named and numbered like ours where a leak would show."""
    return _records(world.bio, world.port_a, surname="IVANOVSKY", document="P7654321", container="MSCU1234567",
                    imo="9703292", flight="SU2580", eori="GB999999999000", declaration="24GB0000000009999")  # fmt: skip


def _search(client, q: str) -> str:
    response = client.get(reverse("core:search"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def _target_url(target) -> str:
    return reverse("targeting:detail", args=[target.pk])


def _subject_url(subject) -> str:
    return reverse("intake:subject", args=[subject.pk])


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("T-{pk}", "on_traveller"),
        ("ivanova", "on_traveller"),
        ("Maria Ivanova", "on_traveller"),
        ("ivanova, maria", "on_traveller"),
        ("P7654321", "on_traveller"),
        ("p 765 4321 rus", "on_traveller"),
        ("MSCU 123456-7", "on_consignment"),
        ("24GB0000000001234", "on_consignment"),
        ("msc oscar", "on_consignment"),  # carried by the vessel found by name
        ("IMO 9703291", "on_consignment"),
        ("SU2580", "on_traveller"),  # travels on the flight found by number
    ],
)
def test_finds_own_agency_target_by_each_way(ours, client_for, customs_analyst, query, target):
    wanted = getattr(ours, target)
    page = _search(client_for(customs_analyst), query.format(pk=wanted.pk))
    assert 'data-testid="search-group-targets"' in page
    assert _target_url(wanted) in page


@pytest.mark.parametrize(
    ("query", "subject"),
    [
        ("ivanova", "traveller"),
        ("P7654321", "traveller"),
        ("mscu1234567", "consignment"),
        ("9703291", "vessel"),
        ("msc oscar", "vessel"),
        ("su 2580", "plane"),
        ("GB123456789000", "trader"),
        ("acme ivanova", "trader"),
    ],
)
def test_finds_the_subject_itself(ours, client_for, customs_analyst, query, subject):
    assert _subject_url(getattr(ours, subject)) in _search(client_for(customs_analyst), query)


@pytest.mark.parametrize("query", ["IVANOV", "P7654321", "MSCU1234567", "SU2580", "msc oscar"])
def test_another_agencys_records_are_never_found(ours, theirs, client_for, customs_analyst, outsider, query):
    mine = _search(client_for(customs_analyst), query)
    for record in (theirs.traveller, theirs.consignment, theirs.vessel, theirs.plane):
        assert _subject_url(record) not in mine
    for target in (theirs.on_traveller, theirs.on_consignment):
        assert _target_url(target) not in mine
    # And the other way round: the outsider finds his own, never ours.
    his = _search(client_for(outsider), query)
    for record in (ours.traveller, ours.consignment, ours.vessel, ours.plane):
        assert _subject_url(record) not in his
    for target in (ours.on_traveller, ours.on_consignment):
        assert _target_url(target) not in his


def test_another_agencys_target_is_not_found_by_reference(theirs, client_for, customs_analyst):
    page = _search(client_for(customs_analyst), f"T-{theirs.on_traveller.pk}")
    assert _target_url(theirs.on_traveller) not in page
    assert "Nothing you may see matches" in page


def test_a_shared_target_is_found_by_reference_but_not_through_a_subject_the_partner_may_not_read(
    ours, client_for, police_liaison, world
):
    TargetShare.objects.create(target=ours.on_traveller, agency=world.police)
    client = client_for(police_liaison)
    assert _target_url(ours.on_traveller) in _search(client, ours.on_traveller.reference)
    # The police may see the target, not the customs PNR: its name and document confirm nothing.
    for query in ("IVANOVA", "P7654321"):
        page = _search(client, query)
        assert _target_url(ours.on_traveller) not in page and _subject_url(ours.traveller) not in page


@pytest.fixture
def masked(world):
    """Our traveller, received seven months ago: past the PNR's six months, so depersonalised."""
    return _records(world.customs, world.port_a, surname="PETROVA", document="K1112223", container="TGHU7654321",
                    imo="9111111", flight="SU2581", eori="GB222222222000", declaration="24GB0000000005555",
                    received_at=timezone.now() - timedelta(days=210))  # fmt: skip


@pytest.mark.parametrize("query", ["PETROVA", "petrova maria", "K1112223"])
def test_a_masked_traveller_is_not_found_by_what_was_masked(masked, client_for, customs_analyst, query):
    page = _search(client_for(customs_analyst), query)
    assert _subject_url(masked.traveller) not in page
    assert _target_url(masked.on_traveller) not in page
    assert 'data-testid="search-group-travellers"' not in page  # not even a count says something matched
    assert "Nothing you may see matches" in page
    assert "PETROVA" not in page.replace(f'value="{query}"', "").upper().replace(query.upper(), "")


def test_an_approved_unmasking_finds_him_again(masked, client_for, customs_analyst, customs_supervisor):
    ask = request_unmask(
        actor=customs_analyst, subject=masked.traveller, reason="Seizure follow-up, case 4471."
    )
    decide_unmask(actor=customs_supervisor, unmask=ask, approve=True, reason="Case confirmed")
    assert _subject_url(masked.traveller) in _search(client_for(customs_analyst), "PETROVA")


def test_a_masked_travellers_target_is_still_found_by_its_reference(masked, client_for, customs_analyst):
    page = _search(client_for(customs_analyst), masked.on_traveller.reference)
    assert _target_url(masked.on_traveller) in page
    assert "PETROVA" not in page.upper().replace(masked.on_traveller.reference, "")


def test_a_search_is_logged_with_its_purpose(ours, client_for, customs_analyst):
    client = client_for(customs_analyst, purpose="investigation")
    session = client.session
    session["ratc_purpose"] = {"code": "investigation", "text": "Case 2026/117"}
    session.save()
    _search(client, "ivanova")
    entry = AccessLogEntry.objects.filter(user=customs_analyst).latest("at")
    assert entry.action == "search" and entry.object_type == "search"
    assert entry.purpose == "investigation" and entry.purpose_text == "Case 2026/117"
    assert "q=ivanova" in entry.summary and "item(s) returned" in entry.summary


def test_a_search_without_a_purpose_asks_for_it_first(ours, client_for, customs_analyst):
    client = client_for(customs_analyst, purpose=None)
    url = f"{reverse('core:search')}?{urlencode({'q': 'IVANOVA'})}"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('compliance:purpose')}?{urlencode({'next': url})}"
    assert not AccessLogEntry.objects.filter(user=customs_analyst).exists()
    htmx = client.get(url, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403 and _subject_url(ours.traveller) not in htmx.content.decode()
    assert htmx["HX-Redirect"].startswith(reverse("compliance:purpose"))


def test_a_port_officer_finds_only_what_was_sent_to_his_port_and_never_by_document(
    ours, client_for, port_officer, world
):
    client = client_for(port_officer)
    assert _target_url(ours.on_consignment) not in _search(client, "MSCU1234567")  # still on the floor
    for target in (ours.on_consignment, ours.on_traveller):
        type(target).objects.filter(pk=target.pk).update(state=TargetState.DISPATCHED, port=world.port_a)
    assert _target_url(ours.on_consignment) in _search(client, "MSCU1234567")
    assert _target_url(ours.on_traveller) in _search(client, "IVANOVA")  # his briefing names the traveller
    assert _target_url(ours.on_traveller) not in _search(client, "P7654321")  # it never shows the document
    assert 'data-testid="search-group-travellers"' not in _search(client, "IVANOVA")  # no subject search


def test_the_header_has_the_box_for_roles_that_may_search(world, client_for, customs_analyst):
    page = client_for(customs_analyst).get(reverse("home")).content.decode()
    assert 'data-testid="search"' in page
    integrator = member("machine", world.customs, Role.SYSTEM)
    assert 'data-testid="search"' not in client_for(integrator).get(reverse("home")).content.decode()


def test_a_too_short_query_searches_nothing(ours, client_for, customs_analyst):
    page = _search(client_for(customs_analyst), "I")
    assert "at least two letters or digits" in page and _subject_url(ours.traveller) not in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_name_and_document_searches_use_indexes_on_postgresql(ours, customs_analyst):
    from apps.core.search import SearchQuery
    from apps.intake.search import subject_matches

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # small tables: ask whether an index can answer at all
        for query in ("IVANOVA", "P7654321", "MSCU1234567", "GB123456789000"):
            for match in subject_matches(customs_analyst, SearchQuery(query)):
                sql, params = match.queryset.values("pk").query.sql_with_params()
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan on intake_subject" not in plan, (query, match.how, plan)
        cursor.execute("RESET enable_seqscan")
