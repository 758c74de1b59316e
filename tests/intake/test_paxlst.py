"""PAXLST (API) parsing on the real sample messages; values checked against the raw files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from apps.intake.parsers.paxlst import parse_paxlst, split_flight_designator
from apps.intake.records.passenger import PassengerReport

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "passenger-messages" / "paxlst"


def parse(name: str):
    path = DATA / name
    if not path.is_file():
        pytest.fail(f"real sample {path} is missing: the shared data folder must sit next to the project")
    return parse_paxlst(path.read_bytes(), file=name)


def report(name: str) -> PassengerReport:
    result = parse(name)
    assert result.ok, result.problems
    [message] = result.messages
    return message.records[0]


@pytest.mark.parametrize(
    ("name", "travellers", "flights", "role"),
    [
        ("dhs_apis_guide_style_05B.edi", 1, 2, "passenger"),
        ("gtas_Test1.txt", 8, 1, "crew"),
        ("gtas_airline2.edi", 10, 1, "passenger"),
        ("gtas_apisMessage.txt", 2, 2, "passenger"),
        ("gtas_multiple_flight_leg_apis.txt", 2, 3, "passenger"),
        ("uae_sita_paxlst_05B.edi", 1, 1, "passenger"),
    ],
)
def test_counts_per_file(name, travellers, flights, role):
    found = report(name)
    assert len(found.travellers) == travellers
    assert len(found.flights) == flights
    assert {t.role for t in found.travellers} == {role}


def test_dhs_guide_passenger_in_full():
    found = report("dhs_apis_guide_style_05B.edi")
    assert (found.document_code, found.reporting_party, found.sender) == ("745", "JACKSON", "APIS*ABE")
    first, second = found.flights
    assert (first.carrier, first.number, first.origin, first.destination) == ("UA", "123", "YVR", "JFK")
    assert first.scheduled_departure == datetime(2007, 4, 29, 12, 30)
    assert second.scheduled_arrival == datetime(2007, 4, 29, 19, 45)
    assert (second.origin, second.destination, second.leg_sequence) == ("JFK", "ATL", 2)
    [doe] = found.travellers
    assert (doe.surname, doe.given_names, doe.sex) == ("DOE", "JOHN WAYNE", "M")
    assert doe.date_of_birth == date(1957, 1, 21)
    assert (doe.nationality, doe.country_of_residence) == ("CAN", "CAN")
    [passport] = doe.documents
    assert (passport.doc_type, passport.number, passport.issuing_country) == ("P", "MB140241", "CAN")
    assert passport.expiry == date(2008, 10, 21)
    assert (doe.embarkation, doe.debarkation) == ("YVR", "ATL")
    assert doe.addresses[0].street == "20 MAIN ST" and doe.addresses[0].postcode == "10053"
    assert doe.phones == ["502-555-1234"]
    assert (doe.booking_reference, doe.traveller_ref, doe.seat) == ("ABC123", "BA1321654987", "23C")
    assert doe.bags.count == 3 and doe.bags.tags == ["UA123456"]
    assert doe.itinerary == found.flights


def test_crew_list_change_message():
    result = parse("gtas_Test1.txt")
    [message] = result.messages
    assert message.function == "update"  # BGM+250+C
    found = message.records[0]
    assert found.document_code == "250"
    assert [t.surname for t in found.travellers][:3] == ["Steur", "Adomat", "Nalek"]
    assert found.travellers[0].place_of_birth == "Hartford USA"
    assert (found.flights[0].carrier, found.flights[0].number) == ("UA", "989")  # TDT UA0989


def test_identity_card_and_issue_date():
    [williams] = report("uae_sita_paxlst_05B.edi").travellers
    [card] = williams.documents
    assert (card.doc_type, card.number) == ("I", "784200915487611")
    assert (card.issued, card.expiry) == (date(2009, 7, 31), date(2030, 8, 3))
    assert williams.date_of_birth == date(2001, 5, 10)
    assert williams.emails == ["TESTEMAIL@sita.aero"]


def test_sender_qualifying_departure_as_loc_22_still_gets_its_origin():
    [flight] = report("uae_sita_paxlst_05B.edi").flights
    assert (flight.origin, flight.destination) == ("LHR", "AUH")


def test_multi_leg_and_co_travellers():
    found = report("gtas_multiple_flight_leg_apis.txt")
    assert [(f.origin, f.destination) for f in found.flights] == [
        ("MIA", "IAD"),
        ("IAD", "JFK"),
        ("JFK", "CDG"),
    ]
    barrett, _lang = found.travellers
    assert barrett.documents[0].number == "YY3478621G"
    assert barrett.co_travellers == ["LANG/KRISTIN"]
    warnings = parse("gtas_multiple_flight_leg_apis.txt").messages[0].warnings
    assert any("after the UNZ" in w.reason for w in warnings)  # the "13Nov09" left after the trailer


def test_declared_count_mismatch_is_a_warning():
    message = parse("gtas_airline2.edi").messages[0]
    assert any("CNT declares 136" in w.reason for w in message.warnings)


def test_message_key_is_stable_across_envelopes_and_changes_with_content():
    data = (DATA / "dhs_apis_guide_style_05B.edi").read_text()
    resent = data.replace("000000001", "000000777").replace("070429:0900", "070429:0930")
    first, again = parse_paxlst(data, file="a"), parse_paxlst(resent, file="b")
    assert first.messages[0].message_key == again.messages[0].message_key
    assert again.messages[0].version_key > first.messages[0].version_key
    changed = parse_paxlst(data.replace("MB140241", "MB140242"), file="c")
    assert changed.messages[0].message_key != first.messages[0].message_key


def test_cancellation_function():
    data = (DATA / "dhs_apis_guide_style_05B.edi").read_text().replace("BGM+745'", "BGM+745+XR'")
    assert parse_paxlst(data, file="x").messages[0].function == "cancellation"


def test_not_a_paxlst_message_is_reported():
    data = (DATA.parent / "pnrgov" / "gtas_pnr2.txt").read_bytes()
    result = parse_paxlst(data, file="p")
    assert not result.messages and "not PAXLST" in result.problems[0].reason


@pytest.mark.parametrize(
    ("designator", "carrier", "expected"),
    [("UA0989", "", ("UA", "989")), ("TN506", "", ("TN", "506")), ("EY0256", "EY", ("EY", "256")),
     ("BAW123", "", ("BAW", "123")), ("U2123", "", ("U2", "123"))],
)  # fmt: skip
def test_flight_designators(designator, carrier, expected):
    assert split_flight_designator(designator, carrier) == expected
