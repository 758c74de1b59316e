"""The linker decides who is who on small, hand-made records: each kind of noise real data has, and the
families and namesakes that must stay apart."""

from __future__ import annotations

import pandas as pd
import pytest

from apps.entities import resolution


def linked(kind: str, a: dict[str, str], b: dict[str, str]) -> tuple[bool, list[str]]:
    frame = pd.DataFrame([{"rid": 1, **a}, {"rid": 2, **b}])
    links, _, _ = resolution.link(frame, kind)
    pair = (1, 2)
    found = [(int(x), int(y)) for x, y in links.linked_pairs()]
    return pair in found, links.reasons.get(pair, [])


API = {"surname": "KOWALSKI", "given": "PIOTR", "dob": "1979-04-12", "doc": "PL1234567", "nationality": "POL",
       "trip": "LO281|2026-03-02"}  # fmt: skip


@pytest.mark.parametrize(
    ("case", "other"),
    [
        ("typo", API | {"surname": "KOWALKSI", "doc": "", "trip": ""}),
        ("swapped name order", API | {"surname": "PIOTR", "given": "KOWALSKI", "doc": ""}),
        ("missing birth date on the same flight", API | {"dob": "", "doc": "", "nationality": ""}),
        ("birth date one typo apart, same document", API | {"dob": "1979-12-04", "trip": ""}),
        # Found only by the nationality-and-name keys, through either end of the document.
        (
            "birth date one typo apart, document one digit apart at its end",
            API | {"dob": "1979-12-04", "doc": "PL1234568", "trip": ""},
        ),
        (
            "no birth date, document one digit apart at its start",
            API | {"dob": "", "doc": "PK1234567", "trip": ""},
        ),
        ("no birth date, a digit of the document dropped", API | {"dob": "", "doc": "PL124567", "trip": ""}),
    ],
)
def test_one_person_despite_noise(case, other):
    same, reasons = linked("person", API, other)
    assert same, case
    assert reasons and reasons[0].startswith("name ")


def test_transliterations_of_one_name_are_one_person():
    passport = {"surname": "ZHUKOV", "given": "ALEKSANDR", "dob": "1985-06-01", "nationality": "RUS"}
    for spelling in ({"surname": "Жуков", "given": "Александр"}, {"surname": "JUKOV", "given": "ALEXANDER"}):
        same, reasons = linked("person", passport, passport | spelling)
        assert same, spelling
        assert "same date of birth" in reasons
    wade_giles = {"surname": "HSIEH", "given": "TINGBO", "dob": "", "trip": "CA937|2026-03-01"}
    assert linked("person", {"surname": "XIE", "given": "TINGBO", "dob": "1973-02-20", "trip": "CA937|2026-03-01"},
                  wade_giles)[0]  # fmt: skip


def test_a_family_sharing_surname_booking_and_nationality_stays_apart():
    father = API | {"given": "JAN", "dob": "1970-01-01", "doc": ""}
    for relative in (
        API | {"given": "EWA", "dob": "", "doc": ""},
        API | {"given": "JANE", "dob": "2001-05-05"},
    ):
        assert not linked("person", father, relative)[0], relative["given"]
    # Namesakes: one name, born on different days, different passports.
    assert not linked("person", API, API | {"dob": "1991-07-30", "doc": "PL7654321", "trip": ""})[0]


def test_one_trader_across_register_declarations_and_manifests():
    register = {"tid": "GB123456789000", "name": "NORTHERN STAR TRADING LIMITED",
                "address": "12 DOCK ROAD, FELIXSTOWE IP11 3QW", "country": "GB"}  # fmt: skip
    manifest = {"tid": "", "name": "Northern Star Trading L.T.D.", "address": "12 Dock Rd, Felixstowe IP11 3QW",
                "country": "GB"}  # fmt: skip
    same, reasons = linked("trader", register, manifest)
    assert same
    assert "operator id missing on one record" in reasons
    elsewhere = manifest | {"address": "400 HARBOUR AVENUE, ROTTERDAM 3011", "country": "NL"}
    assert not linked("trader", register, elsewhere)[0]  # another company of the same words
    assert not linked("trader", register, register | {"tid": "GB999999999000"})[0]  # another legal person


def test_a_new_batch_links_against_what_was_stored():
    stored = pd.DataFrame([{"rid": 1, **API}, {"rid": 2, **API, "surname": "NOWAK", "given": "ANNA"}])
    _, prepared, keys = resolution.link(stored, "person")
    batch = pd.DataFrame([{"rid": 3, **API, "surname": "KOWALSKY", "doc": ""}])
    links, _, _ = resolution.link(batch, "person", stored=prepared, stored_keys=keys)
    assert [tuple(map(int, p)) for p in links.linked_pairs()] == [(1, 3)]
