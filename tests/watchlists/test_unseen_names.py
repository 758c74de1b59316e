"""Screening that holds on names it has never seen: each kind of failure, with names of our own.

Kinds kept apart, other scripts, typos and run-together names, single names, namesakes born decades
apart, and a person's false-match ruling fed back into screening and into each list's precision.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.intake.models import SourceKind, Subject
from apps.watchlists.calibration import calibrate, threshold_for_rate
from apps.watchlists.evidence import MATCH_THRESHOLD
from apps.watchlists.importers import Alias, BirthDate, Document, WatchlistEntry
from apps.watchlists.matching import ScreeningIndex, name_similarity, tokenize
from apps.watchlists.models import WatchlistHit
from apps.watchlists.rulings import precision_by_list, rule_hit
from apps.watchlists.screen_csv import screen_rows
from apps.watchlists.screening import provider
from tests.factories import DataSourceFactory
from tests.watchlists.helpers import make_entry, make_list


def person(ext: str, name: str, born: str | None = None, nat: str | None = None, **kw) -> WatchlistEntry:
    dobs = [BirthDate(*map(int, born.split("-")))] if born else []
    return WatchlistEntry(
        "T", ext, "person", name, dates_of_birth=dobs, nationalities=[nat] if nat else [], **kw
    )


ENTRIES = [
    person("P-KHAN", "KHAN, Omar Farooq", "1974-02-11", "PK"),
    person("P-KIM", "KIM, Jin Ho", "1969-08-30", "KP"),
    person("P-RAHMAN", "HAMID, Abdul Rahman", "1981-06-17", "SY"),
    person("P-LOPEZ", "LOPEZ ARANDA, Maria Elena", "1977-10-05", "MX"),
    person("P-TAMIMI", "AL-TAMIMI, Yusuf Ibrahim", "1966-03-21", "JO"),
    person("P-KARIMI", "KARIMI, Mahmoud", "1958-12-01", "IR"),
    person("P-ZENG", "ZENG, Xiaoming", "1972-04-09", "CN"),
    person("P-TSENG", "TSENG, Hsiao-ming", "1980-01-15", "TW"),
    person("P-ZAFAR", "ZAFARULLAH", "1971-03-04", "AF"),
    person("P-PETRENKO", "PETRENKO, Ivan Mykolayovych", "1961-05-02", "UA"),
    person("P-ASWAD", "ASWAD, Samir", "1959-07-14", "SY"),
    WatchlistEntry("T", "O-RASHID", "organisation", "RASHID AZIZ SHIPPING LINE LLC", nationalities=["AE"]),
    WatchlistEntry("T", "O-FALCON", "organisation", "FALCON AVIATION SERVICES"),
    WatchlistEntry(
        "T",
        "V-STAR",
        "vessel",
        "OCEAN STAR",
        aliases=[Alias("STAR OF THE OCEAN")],
        documents=[Document("IMO", "9123457")],
    ),
]


@pytest.fixture(scope="module")
def index() -> ScreeningIndex:
    return ScreeningIndex.build(ENTRIES)


def best(index: ScreeningIndex, name: str, **kw) -> tuple[str, float]:
    hits = index.screen(name, threshold=0.0, limit=1, **kw)
    return (hits[0].entry_id, hits[0].score) if hits else ("", 0.0)


def row(name: str, **kw: str) -> dict[str, str]:
    """What the batch command gets and gives back for one CSV row (the code behind ``manage.py screen``)."""
    [out] = screen_rows(INDEX_FOR_ROWS, [{"id": "1", "name": name, **kw}], threshold=0.0)
    return out


INDEX_FOR_ROWS = ScreeningIndex.build(ENTRIES)


# --- kinds kept apart -------------------------------------------------------------------------------------


def test_a_traveller_with_a_date_of_birth_never_matches_a_company_or_a_vessel() -> None:
    # The company's name is a person's name; a traveller of that name is screened against persons only.
    assert row("Rashid Aziz", date_of_birth="1980-01-01")["entry_id"] == ""
    assert row("Falcon Aviaton", date_of_birth="1975-07-07")["entry_id"] == ""
    assert row("Ocean Star", date_of_birth="1990-02-02")["entry_id"] == ""
    # Without a date of birth the same names may be the company's: they are screened against every kind.
    assert row("Rashid Aziz Shipping Line")["entry_id"] == "O-RASHID"


def test_a_vessel_is_screened_by_name_and_imo_number() -> None:
    by_number = row("Ocean Starr", imo="IMO 9123457")
    by_name = row("Ocean Starr", kind="vessel")
    assert by_number["entry_id"] == by_name["entry_id"] == "V-STAR"
    assert float(by_number["score"]) > float(by_name["score"]) > 0.5
    assert row("Ocean Starr", kind="organisation")["entry_id"] == ""


# --- other scripts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "listed", "born"),
    [
        ("يوسف إبراهيم التميمي", "P-TAMIMI", "1966-03-21"),  # Arabic script, listed in Latin only
        ("محمود کریمی", "P-KARIMI", "1958-12-01"),  # Persian letters (keheh, farsi yeh)
        ("曾小明", "P-ZENG", "1972-04-09"),  # 曾 read Zeng as a family name, not Ceng
        ("曾小明", "P-TSENG", "1980-01-15"),  # the same characters, listed in Wade-Giles
        ("Xiaoming Zeng", "P-ZENG", "1972-04-09"),  # given name first
        ("سمير اسود", "P-ASWAD", "1959-07-14"),  # alif written: "aswd", not the bare "swd"
    ],
)
def test_names_in_other_scripts_find_the_listed_person(index: ScreeningIndex, written, listed, born) -> None:
    entry, score = best(index, written, date_of_birth=born, kind="person")
    assert entry == listed and score >= MATCH_THRESHOLD


def test_short_transliterations_do_not_match_unrelated_names(index: ScreeningIndex) -> None:
    # Ordinary travellers whose names, in Latin letters, are short: no listed person is near them.
    for name, born in (("علي حسن", "1990-01-01"), ("王伟", "1985-05-05"), ("محمد", "1970-07-07")):
        assert best(index, name, date_of_birth=born, kind="person")[1] < 0.5, name


def test_pinyin_parts_do_not_fold_onto_shorter_ones() -> None:
    # j, y and zh are different sounds in Pinyin: "Yijun" is not "Yun", "Jie Zhou" is not "Yi Yu".
    assert name_similarity("Yijun", "Yun") < 0.6
    assert name_similarity("Jie Zhou", "Yi Yu") < 0.5
    # ... while spellings of one name of about the same length still fold together.
    assert name_similarity("Mukhammad Yusupov", "Muhammad Jusupov") >= 0.9


def test_titles_in_other_scripts_are_not_name_parts() -> None:
    assert [t.text for t in tokenize("السيد يوسف التميمي")] == [t.text for t in tokenize("يوسف التميمي")]
    assert [t.text for t in tokenize("جناب آقای محمود کریمی")] == [t.text for t in tokenize("محمود کریمی")]


# --- typos, swaps and run-together names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "listed", "born"),
    [
        ("Omar Farooq KHNA", "P-KHAN", "1974-02-11"),  # two letters swapped in a short family name
        ("Jin Ho KMI", "P-KIM", "1969-08-30"),  # ... in a three-letter one
        ("Abdulrahman Hamid", "P-RAHMAN", "1981-06-17"),  # given names run together
        ("Mariaelena Lopez Aranda", "P-LOPEZ", "1977-10-05"),
        ("Mahmoudkarimy", "P-KARIMI", "1958-12-01"),  # run together, and the other half misspelt
        ("Abdul Rahman Hamid", "P-RAHMAN", "1981-06-17"),
        ("Petrenko Ivan", "P-PETRENKO", "1961-05-02"),  # family name first, patronymic left out
    ],
)
def test_mistyped_and_reordered_names_are_found(index: ScreeningIndex, written, listed, born) -> None:
    entry, score = best(index, written, date_of_birth=born, kind="person")
    assert entry == listed and score >= MATCH_THRESHOLD


# --- single names and namesakes -------------------------------------------------------------------------------


def test_a_single_name_entry_needs_a_date_of_birth(index: ScreeningIndex) -> None:
    alone, score_alone = best(index, "Zafarullah Qureshi", kind="person")
    dated, score_dated = best(index, "Zafarullah Qureshi", date_of_birth="1971-03-04", kind="person")
    _other, score_other = best(index, "Zafarullah Qureshi", date_of_birth="1993-09-09", kind="person")
    assert alone == dated == "P-ZAFAR"
    assert score_alone < MATCH_THRESHOLD <= score_dated
    assert score_other < score_alone
    # A full name matched exactly without a date of birth counts for more than a single name does.
    assert best(index, "Omar Farooq Khan", kind="person")[1] > score_alone


def test_a_namesake_born_decades_apart_scores_below_the_listed_person(index: ScreeningIndex) -> None:
    [listed] = index.screen(
        "Ivan Petrenko", date_of_birth="1961-05-02", nationality="UA", threshold=0.0, limit=1
    )
    [namesake] = index.screen(
        "Ivan Petrenko", date_of_birth="1992-11-20", nationality="UA", threshold=0.0, limit=1
    )
    assert listed.entry_id == namesake.entry_id == "P-PETRENKO"
    assert listed.score >= 0.95 and namesake.score < 0.5
    # Each part of the explanation carries its weight: the name for, the date of birth against.
    parts = {p.key: p.weight for p in namesake.parts}
    assert parts["name"] > 0 and parts["date_of_birth"] < -parts["name"] / 2 and parts["nationality"] > 0
    assert [p.text for p in namesake.parts] == namesake.reasons


# --- thresholds, rulings and precision -----------------------------------------------------------------------


def test_threshold_for_rate_keeps_the_stated_share() -> None:
    scores = [round(0.001 * i, 4) for i in range(1000)]  # 0.000 .. 0.999
    t = threshold_for_rate(scores, 0.01)  # at most 10 of 1000 may reach it
    assert sum(1 for s in scores if s >= t) == 10
    assert threshold_for_rate([0.1] * 10, 0.5) == 0.5  # never below even odds


@pytest.mark.django_db
def test_a_list_is_calibrated_on_its_stated_false_hit_rate(world) -> None:
    wl = make_list(world.customs, "Calibrated lookouts")
    make_entry(wl, "Wang Wei", id="1", dates_of_birth=["1980-01-01"], nationalities=["CN"])
    make_entry(wl, "Mohammed Ali", id="2")
    make_entry(wl, "Maria Garcia", id="3", dates_of_birth=["1975"])
    record = calibrate(wl, sample=1000)
    wl.refresh_from_db()
    assert record["sample"] == 1000 and record["measured_rate"] <= wl.false_hit_rate
    assert wl.match_threshold == record["threshold"] and 0.5 <= wl.match_threshold < 1


def _traveller(agency, name: str, born: str) -> Subject:
    source = DataSourceFactory(owner_agency=agency, kind=SourceKind.API)
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=agency, external_id=f"api:{name}:{born}", title=name,
        received_at=timezone.now(), facts={"full_name": name, "date_of_birth": born, "nationality": "PK"},
    )  # fmt: skip


@pytest.mark.django_db
def test_a_false_match_ruling_suppresses_that_pair_and_rulings_measure_precision(
    world, customs_analyst, client_for
) -> None:
    from apps.watchlists.rulings import record_screening

    wl = make_list(world.customs, "Ruled lookouts")
    khan = make_entry(wl, "KHAN, Omar Farooq", id="K", dates_of_birth=["1974-02-11"], nationalities=["PK"])
    first = _traveller(world.customs, "Omar Farooq Khan", "1974-02-11")
    second = _traveller(world.customs, "Omar Farooq KHNA", "1974-02-11")

    def screened() -> dict[int, list[int]]:
        found = provider([first, second])
        record_screening([(1, pk, comps) for pk, comps in found.items()])
        return {pk: [c.details["entry_id"] for c in comps] for pk, comps in found.items()}

    assert screened() == {first.pk: [khan.pk], second.pk: [khan.pk]}
    details = provider([first])[first.pk][0].details
    assert [p["key"] for p in details["parts"]] == ["name", "date_of_birth", "nationality"]
    hit_first = WatchlistHit.objects.get(subject=first)
    hit_second = WatchlistHit.objects.get(subject=second)
    rule_hit(actor=customs_analyst, hit=hit_first, ruling="false_match", reason="Passport seen: another man.")
    rule_hit(actor=customs_analyst, hit=hit_second, ruling="true_match", reason="Passport and photo agree.")
    # Next time the ruled pair is not raised again; the other subject still is.
    assert screened() == {second.pk: [khan.pk]}
    assert precision_by_list(customs_analyst)[wl.pk] == {
        "true_match": 1, "false_match": 1, "unsure": 0, "ruled": 2, "precision": 0.5,
    }  # fmt: skip
    page = client_for(customs_analyst).get(reverse("watchlists:detail", args=[wl.pk])).content.decode()
    assert "1 true, 1 false, 0 unsure · precision 50 %" in page


@pytest.mark.django_db
def test_the_screen_tool_shows_each_part_of_the_score(client_for, customs_analyst, customs_list) -> None:
    url = reverse("watchlists:screen")
    page = client_for(customs_analyst).get(url, {"name": "Viktor Boutov", "date_of_birth": "1967-01-13"})
    html = page.content.decode()
    assert "date of birth matches" in html and "+2.5" in html and 'data-testid="parts"' in html
    assert "the list raises a hit from 0.80" in html
