"""PNRGOV parsing on the real sample messages; values checked against the raw files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from apps.intake.parsers.edifact import tokenize
from apps.intake.parsers.pnrgov import (
    KEPT_SSR_CODES,
    SENSITIVE_SSR_CODES,
    filter_sensitive_segments,
    parse_pnrgov,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "passenger-messages" / "pnrgov"


def raw(name: str) -> bytes:
    path = DATA / name
    if not path.is_file():
        pytest.fail(f"real sample {path} is missing: the shared data folder must sit next to the project")
    return path.read_bytes()


def parse(name: str):
    return parse_pnrgov(raw(name), file=name)


def pnr(name: str, locator: str):
    result = parse(name)
    assert result.ok, result.problems
    return next(m for m in result.messages if m.records[0].record_locator == locator)


def traveller(message, surname: str):
    return next(t for t in message.records[0].travellers if t.surname == surname)


@pytest.mark.parametrize(
    ("name", "pnrs", "travellers"),
    [
        ("gtas_2_pnrs_basic.edi", 2, 4),
        ("gtas_adult_and_infant.edi", 1, 2),
        ("gtas_bigMessagePnr.txt", 1, 7),
        ("gtas_multiple_flight_leg_pnr.txt", 1, 2),
        ("gtas_pnr1.txt", 1, 2),
        ("gtas_pnr2.txt", 1, 2),
        ("gtas_pnrMessage.txt", 1, 2),
        ("gtas_pnrMessagePg75.txt", 2, 2),
        ("gtas_pnrMessagePg76.txt", 1, 2),
        ("gtas_pnrMessagePg77.txt", 1, 1),
        ("gtas_pnrSeatFormats.txt", 1, 1),
        ("gtas_pnrWithBags.txt", 127, 268),
        ("gtas_pnrWithDoco.txt", 1, 1),
    ],
)
def test_counts_per_file(name, pnrs, travellers):
    result = parse(name)
    assert result.ok, result.problems
    assert len(result.messages) == pnrs
    assert sum(len(m.records[0].travellers) for m in result.messages) == travellers


def test_bad_format_file_is_refused_naming_segment_line_and_reason():
    result = parse("gtas_pnrBadFormat.txt")
    assert not result.messages
    [problem] = result.problems
    assert problem.file == "gtas_pnrBadFormat.txt"
    assert problem.where == "UNZ segment #28 (line 28)"
    assert "Modify above message" in problem.reason and "refused" in problem.reason


def test_several_pnrs_in_one_message():
    result = parse("gtas_2_pnrs_basic.edi")
    assert [m.records[0].record_locator for m in result.messages] == ["DL:MFN4TI", "1A:23456"]
    assert [[t.full_name for t in m.records[0].travellers] for m in result.messages] == [
        ["SMITHJR/JOHN", "JONES/WILLIAM"],
        ["WAYNE/JOHN", "COOPER/GARY"],
    ]


def test_pnr_in_full():
    message = pnr("gtas_pnr1.txt", "DL:MFN4TI")
    found = message.records[0]
    assert found.reported_flight.designator == "DL324"
    assert found.last_modified == datetime(2010, 12, 6, 10, 10)
    assert [(f.designator, f.origin, f.destination) for f in found.flights] == [
        ("DL324", "LHR", "JFK"),
        ("DL330", "JFK", "YVR"),
    ]
    assert found.flights[0].scheduled_arrival == datetime(2010, 12, 12, 12, 30)
    smith = traveller(message, "SMITHJR")
    [passport] = smith.documents
    assert (passport.number, passport.issuing_country, passport.expiry) == (
        "123456789",
        "GBR",
        date(2019, 8, 23),
    )
    assert (smith.date_of_birth, smith.sex, smith.nationality) == (date(1964, 7, 12), "M", "GBR")
    assert (smith.frequent_flyer, smith.ticket_number, smith.payment_form) == (
        "DL1234567890",
        "0062120234533",
        "card",
    )
    assert smith.addresses[0].street == "45 HIGHSTREET" and smith.addresses[0].postcode == "SL1AA"
    assert "00441753637285" in smith.phones
    assert [(s.number, s.origin, s.destination, s.checked_in) for s in smith.seats] == [
        ("15A", "LHR", "JFK", True),
        ("15E", "JFK", "YVR", False),
    ]
    assert smith.co_travellers == ["JONES/WILLIAM"]
    assert found.bags.count == 4  # EBD before any TIF: the booking's excess baggage


def test_sensitive_ssr_and_remarks_are_dropped_and_counted():
    message = pnr("gtas_pnr1.txt", "DL:MFN4TI")
    # SSR AVML (x5, incl. history), IFT "VIP", two fare lines, two sponsor lines; CTCR phone kept.
    assert message.filtered_fields == 10
    text = repr(message.records)
    for leaked in ("AVML", "VIP", "TIMOTHY SIMS", "ROE0.618831"):
        assert leaked not in text
    assert "00115555555555" in traveller(message, "SMITHJR").phones


def test_sensitive_filter_list():
    assert not SENSITIVE_SSR_CODES & KEPT_SSR_CODES
    text = (
        "UNB+IATA:1+XX+YY+240101:1200+1'UNH+1+PNRGOV:13:1:IA'SRC'RCI+XX:ABC123'TIF+DOE+JANE:A:1'"
        + "".join(f"SSR+{code}:HK:1:XX'" for code in ("MOML", "KSML", "HNML", "VGML", "WCHR", "WCHS",
                                                     "WCHC", "MEDA", "BLND", "DEAF", "DPNA", "ZZZZ"))
        + "SSR+DOCS:HK:1:XX:::::/P/FRA/12345/FRA/01JAN80/F/01JAN30/DOE/JANE'"
        + "IFT+4:28::XX+CTCE JANE//EXAMPLE.ORG'IFT+4:28::XX+PRAYER TIMES REQUESTED'"
        + "UNT+20+1'UNZ+1+1'"
    )  # fmt: skip
    _, segments, _ = tokenize(text)
    kept, dropped = filter_sensitive_segments(segments)
    assert dropped == 13  # 12 SSR (the unknown ZZZZ too) and the free-text remark
    assert [s.get(0) for s in kept if s.tag == "SSR"] == ["DOCS"]
    [message] = parse_pnrgov(text, file="s").messages
    assert message.filtered_fields == 13
    [jane] = message.records[0].travellers
    assert jane.emails == ["JANE@EXAMPLE.ORG"] and jane.documents[0].number == "12345"
    assert "PRAYER" not in repr(message.records) and "MOML" not in repr(message.records)


def test_adult_with_infant():
    message = pnr("gtas_adult_and_infant.edi", "AM:XXXYET")
    assert message.records[0].booking_date == date(2013, 4, 30)
    mother = traveller(message, "TESTSURNAMEONE")
    infant = traveller(message, "TESTSURNAMETWO")
    assert (mother.role, infant.role) == ("passenger", "infant")
    assert [d.number for d in mother.documents] == ["52263000"]
    assert [d.number for d in infant.documents] == ["AO234000"]
    assert infant.date_of_birth == date(2011, 8, 10)
    assert [f.designator for f in message.records[0].flights] == ["AM709", "AM445", "AM718"]


def test_bags_with_tags_and_weight():
    message = pnr("gtas_bigMessagePnr.txt", "UA:86C92D")
    holcombe = traveller(message, "HOLCOMBE")
    assert holcombe.bags.count == 2 and holcombe.bags.weight == 44.0
    assert holcombe.bags.tags == ["ET0447", "ET0448"]
    assert traveller(message, "MICHAELS").bags.tags == ["ET0455", "ET0456", "ET0457", "ET0458"]
    assert holcombe.emails == ["LORELEI.HOLCOMBE@HOTMAIL.COM"]
    assert traveller(message, "SLOCOMBE").payment_form == "cash"
    assert traveller(message, "SLOCOMBE").emails == ["LUCY_SLOCOMBE@GMAIL.COM"]  # ".." encodes "_"


def test_visa_from_doco_and_seat_formats():
    ackary = traveller(pnr("gtas_pnrWithDoco.txt", "UA:06A9FD"), "ACKARY")
    visa = next(d for d in ackary.documents if d.doc_type == "V")
    assert (visa.number, visa.place_of_issue, visa.valid_for_country, visa.issued) == (
        "8675309",
        "OTHER PLACE",
        "LI",
        date(2006, 12, 22),
    )
    lobb = traveller(pnr("gtas_pnrSeatFormats.txt", "UA:7C789A"), "LOBB")
    assert [(s.number, s.origin, s.destination) for s in lobb.seats] == [
        ("36K", "FRA", "IAD"),
        ("74E", "SFO", "IAD"),
    ]


def test_released_plus_in_email():
    lobb = traveller(pnr("gtas_pnrAddressPhoneCTCM.txt", "UA:7C789A"), "LOBB")
    assert lobb.emails == ["MOLLY_LONT+50BB@GMAIL.COM"]
    assert "5432109876" in lobb.phones


def test_update_of_the_same_pnr_supersedes_and_a_resend_is_idempotent():
    original = raw("gtas_pnrWithDoco.txt").decode()
    resent = original.replace("180509:1120+361553663005", "180509:1120+361553663099")
    update = original.replace("180509:1120+361553663005", "180510:0800+361553663100").replace(
        "SSR+SEAT:HK:1:UA:::FRA:IAD++23K::1", "SSR+SEAT:HK:1:UA:::FRA:IAD++24A::1"
    )
    first, again, later = (parse_pnrgov(t, file="f").messages[0] for t in (original, resent, update))
    assert first.records[0].record_locator == later.records[0].record_locator == "UA:06A9FD"
    assert first.message_key == again.message_key  # same content: stored once
    assert later.message_key != first.message_key
    assert later.message_key.startswith("pnrgov:UA:06A9FD:")
    assert later.version_key > again.version_key > first.version_key


def test_pnr_without_record_locator_is_reported_and_others_kept():
    text = raw("gtas_2_pnrs_basic.edi").decode().replace("RCI+DL:MFN4TI'", "RCI+DL'")
    result = parse_pnrgov(text, file="x")
    assert [m.records[0].record_locator for m in result.messages] == ["1A:23456"]
    assert "record locator" in result.problems[0].reason and "SRC segment" in result.problems[0].where
