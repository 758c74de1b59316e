"""The EDIFACT tokenizer and envelope reader, and format detection, on real and derived messages."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from apps.intake.parsers.detect import detect_format
from apps.intake.parsers.edifact import Separators, read_interchanges, tokenize
from apps.intake.parsers.paxlst import parse_paxlst
from apps.intake.parsers.pnrgov import parse_pnrgov

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PASSENGER = DATA / "passenger-messages"


def sample(name: str) -> bytes:
    path = PASSENGER / name
    if not path.is_file():
        pytest.fail(f"real sample {path} is missing: the shared data folder must sit next to the project")
    return path.read_bytes()


def reserialise(data: bytes, seps: Separators, *, una: bool = True, after: str = "") -> str:
    """Write a message again with other separators, escaping what they make special."""
    _, segments, problems = tokenize(data)
    assert not problems
    special = {seps.component, seps.element, seps.terminator, seps.release} - {""}

    def escape(value: str) -> str:
        return "".join(seps.release + c if c in special else c for c in value)

    head = (
        f"UNA{seps.component}{seps.element}{seps.decimal}{seps.release or ' '} {seps.terminator}"
        if una
        else ""
    )
    lines = [
        seps.element.join(
            [segment.tag] + [seps.component.join(escape(c) for c in e) for e in segment.elements]
        )
        + seps.terminator
        for segment in segments
    ]
    return head + after + after.join(lines)


VARIANTS = [
    Separators(":", "+", ".", "?", "'"),
    Separators("^", "|", ",", "\\", "~"),
    Separators(">", "*", ".", "#", "!"),
    Separators("\x1f", "\x1d", ".", "?", "\x1c"),
]


@pytest.mark.parametrize("seps", VARIANTS, ids=lambda s: repr(s.element + s.terminator))
@pytest.mark.parametrize(
    ("name", "parser"),
    [
        ("paxlst/dhs_apis_guide_style_05B.edi", parse_paxlst),
        ("paxlst/uae_sita_paxlst_05B.edi", parse_paxlst),
        ("pnrgov/gtas_pnrAddressPhoneCTCM.txt", parse_pnrgov),  # carries a released "+"
        ("pnrgov/gtas_2_pnrs_basic.edi", parse_pnrgov),
    ],
)
def test_any_una_separators_give_identical_results(name, parser, seps):
    original = parser(sample(name), file=name)
    variant = parser(reserialise(sample(name), seps), file=name)
    assert original.messages
    assert [m.records for m in variant.messages] == [m.records for m in original.messages]
    assert [m.message_key for m in variant.messages] == [m.message_key for m in original.messages]
    assert variant.problems == original.problems


def test_release_character_protects_separators_in_data():
    text = "UNA:+.? 'UNB+UNOA:4+S+R+240101:1200+1'UNH+1+PAXLST:D:05B:UN:IATA'FTX+AAA+++O?'HARA?+SONS?:1??'UNT+3+1'UNZ+1+1'"
    interchanges, problems = read_interchanges(text, file="t")
    assert not problems
    ftx = interchanges[0].messages[0].body[0]
    assert ftx.elements[3] == ["O'HARA+SONS:1?"]


def test_crlf_blank_lines_and_stray_whitespace_do_not_change_results():
    data = sample("paxlst/gtas_multiple_flight_leg_apis.txt")
    tidy = reserialise(data, VARIANTS[0])
    messy = reserialise(data, VARIANTS[0], after="\r\n \t\r\n  ")
    assert (
        parse_paxlst(messy, file="m").messages[0].records == parse_paxlst(tidy, file="t").messages[0].records
    )
    assert (
        parse_paxlst(data, file="x").messages[0].records == parse_paxlst(tidy, file="t").messages[0].records
    )


def test_segments_carry_index_and_line_and_wrapped_lines_are_joined():
    _, segments, _ = tokenize(sample("pnrgov/gtas_pnr1.txt"))
    add = next(s for s in segments if s.tag == "ADD")
    assert (add.index, add.line) == (14, 14)
    assert add.get(1, 1) == "45 HIGHSTREET"  # the segment was wrapped over two lines
    unt = next(s for s in segments if s.tag == "UNT")
    assert unt.where == "UNT segment #87 (line 94)"


def test_una_with_unusual_separators_and_sloppy_tags():
    # gtas_airline2.edi declares "UNA:*.? $": "*" between elements, "$" ends segments (then CRLF),
    # and writes "UNG *PAXLST" with a space after the tag.
    interchanges, problems = read_interchanges(sample("paxlst/gtas_airline2.edi"), file="a")
    assert not problems
    assert interchanges[0].separators.element == "*"
    assert interchanges[0].separators.terminator == "$"
    assert interchanges[0].messages[0].header.line == 4
    assert len(interchanges[0].messages) == 1


def test_unt_count_mismatch_is_a_warning_naming_the_message():
    interchanges, problems = read_interchanges(sample("pnrgov/gtas_pnr1.txt"), file="p.txt")
    assert not problems
    [warning] = [w for w in interchanges[0].messages[0].warnings if "counts" in w.reason]
    assert warning.where == "UNT segment #87 (line 94)"
    assert "message '1'" in warning.reason and "'135'" in warning.reason and "found 86" in warning.reason


def test_several_messages_in_one_interchange():
    text = sample("paxlst/dhs_apis_guide_style_05B.edi").decode()
    message = text[text.index("UNH") : text.index("UNE")]
    doubled = text.replace(message, message + message.replace("PAX001", "PAX002")).replace("UNE+1", "UNE+2")
    result = parse_paxlst(doubled, file="d")
    assert [m.records[0].message_ref for m in result.messages] == ["PAX001", "PAX002"]
    assert result.ok


def test_message_without_unt_is_dropped_and_the_others_kept():
    text = sample("paxlst/dhs_apis_guide_style_05B.edi").decode()
    message = text[text.index("UNH") : text.index("UNE")]
    broken = message[: message.index("UNT")]
    result = parse_paxlst(text.replace(message, broken + message), file="b")
    assert len(result.messages) == 1
    assert any("has no UNT" in p.reason for p in result.problems)


def test_missing_unb_and_empty_files_are_problems():
    assert read_interchanges(b"", file="e")[1][0].reason.startswith("no EDIFACT segments")
    _, problems = read_interchanges(b"UNH+1+PAXLST'UNT+2+1'", file="n")
    assert problems[0].where == "UNH segment #1 (line 1)"
    assert "UNB" in problems[0].reason


@pytest.mark.parametrize("name", ["paxlst/gtas_Test1.txt", "pnrgov/gtas_bigMessagePnr.txt"])
def test_truncated_files_give_problems_not_exceptions(name):
    data = sample(name)
    parser = parse_paxlst if name.startswith("paxlst") else parse_pnrgov
    for cut in range(0, len(data), max(1, len(data) // 97)):
        result = parser(data[:cut], file=name)
        # A cut inside the UNZ reference leaves a shorter reference: a mismatch warning, not a refusal.
        noticed = result.problems or (result.messages and all(m.warnings for m in result.messages))
        assert noticed, f"cut at {cut} accepted silently"


def test_random_garbage_gives_problems_not_exceptions():
    rng = random.Random(20240611)
    real = sample("pnrgov/gtas_pnr2.txt")
    for _ in range(300):
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        for parser in (parse_paxlst, parse_pnrgov):
            assert parser(garbage, file="g").problems
        # Real envelope, damaged middle: must not raise, whatever it reports.
        start = rng.randrange(len(real))
        damaged = real[:start] + garbage + real[start + len(garbage) :]
        parse_pnrgov(damaged, file="d")
        assert detect_format(garbage, "g") in (None, "paxlst", "pnrgov")


def test_malformed_segment_inside_a_message_drops_it():
    text = sample("paxlst/dhs_apis_guide_style_05B.edi").decode().replace("ATT+2++M'", "\x00\x01!'")
    result = parse_paxlst(text, file="m")
    assert not result.messages
    assert "malformed segment" in result.problems[0].reason
    assert "line 20" in result.problems[0].where


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("passenger-messages/paxlst", "paxlst"), ("passenger-messages/pnrgov", "pnrgov")],
)
def test_detect_passenger_formats(folder, expected):
    files = [p for p in (DATA / folder).iterdir() if p.suffix in (".txt", ".edi")]
    assert files
    for path in files:
        assert detect_format(path.read_bytes(), path.name) == expected, path.name


def test_detect_cargo_and_declaration_formats():
    assert {detect_format(p.read_bytes(), p.name) for p in (DATA / "cargo" / "wco-dec").glob("*.xml")} == {
        "wco-dec"
    }
    waybills = {
        p.name: detect_format(p.read_bytes(), p.name) for p in (DATA / "cargo" / "xfwb").glob("*.xml")
    }
    assert waybills["SEL22222222_XFZB.xml"] == "xfzb"
    assert waybills["888-11111111_XFWB.xml"] == "xfwb"
    csv_head = (DATA / "declarations" / "df_syn_valid_eng.csv").read_bytes()[:4096]
    assert detect_format(csv_head, "x.csv") == "declarations-csv"
    assert detect_format((DATA / "watchlists" / "un_consolidated.xml").read_bytes()[:4096], "u.xml") is None
    assert detect_format(b"name,dob\nA,1\n", "people.csv") is None
