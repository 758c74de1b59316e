"""The bulk screening path gives exactly the per-name path's hits, on the real UN + OFAC lists."""

from __future__ import annotations

import csv
import gc
import random
from pathlib import Path

import pytest
from django.utils import timezone

from apps.intake.models import SourceKind, Subject
from apps.simulator.generators import name_variant
from apps.watchlists.bulk import Query, screen_many, screen_one
from apps.watchlists.importers import WatchlistEntry
from apps.watchlists.matching import ScreeningIndex
from apps.watchlists.screening import screen_subject, screen_subjects
from tests.factories import DataSourceFactory

KINDS = {"Person": "person", "Vessel": "vessel"}
#: Ordinary travellers' names (none listed), several origins, some repeated and re-spelt.
ORDINARY = [
    "John Smith", "SMITH, JOHN", "Mary Jones", "Oliver James Brown", "Amelia Wilson", "Jean Dupont",
    "Hans Müller", "Maria Garcia Lopez", "Jose Luis Rodriguez", "Ana Maria Santos", "Giulia Rossi",
    "Piotr Kowalski", "Ahmed Hassan", "Mohammed Ali", "Fatima Khan", "Oluwaseun Adebayo",
    "Rajesh Kumar Sharma", "Wei Zhang", "Olga Ivanova", "Dmitry Petrov", "Mehmet Yilmaz",
    "Ali Reza Mohammadi", "Carlos Alberto Gomez", "Jan de Vries", "Siobhan O'Brien", "A. B. Carter",
    "Kim", "Li", "Abdul Rahman bin Abdullah", "Alexander Alexandrovich Volkov", "J Smith",
]  # fmt: skip


def _signature(matches: list) -> list[tuple]:
    return [(m.entry_id, m.alias, m.score, m.name_score, tuple(m.reasons)) for m in matches]


def _pair_queries(data_dir: Path) -> list[Query]:
    with (data_dir / "name_pairs_nomenklatura.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    queries = []
    for r in rows:
        kind = KINDS.get(r["schema"], "organisation")
        queries += [Query(r["name1"], kind=kind), Query(r["name2"], kind=kind), Query(r["name1"])]
    return queries


def _listed_queries(entries: list[WatchlistEntry]) -> list[Query]:
    """Listed names as they are, in variant spellings, and with agreeing or conflicting evidence."""
    rng = random.Random(4)
    queries = []
    for e in entries[::7]:
        dob = str(e.dates_of_birth[0]) if e.dates_of_birth else None
        nat = e.nationalities[0] if e.nationalities else None
        doc = e.documents[0].number if e.documents else None
        queries.append(Query(e.name, kind=e.kind, date_of_birth=dob, nationality=nat, document=doc))
        queries.append(Query(name_variant(e.name, rng), kind="person", date_of_birth="1970-01-01"))
        queries.append(Query(e.name, limit=20, threshold=0.6))
    return queries


def test_bulk_path_gives_the_per_name_hits_on_real_lists(
    index: ScreeningIndex, un_entries: list[WatchlistEntry], data_dir: Path
) -> None:
    queries = _pair_queries(data_dir) + _listed_queries(un_entries + index.entries[len(un_entries) :: 3])
    queries += [Query(n, kind="person", nationality="GB", date_of_birth="1980-02-03") for n in ORDINARY * 2]
    queries += [Query(""), Query("   "), Query("Mr")]
    bulk = screen_many(index, queries)
    one = [screen_one(index, q) for q in queries]
    differ = [
        (q.name, _signature(b), _signature(o))
        for q, b, o in zip(queries, bulk, one, strict=True)
        if _signature(b) != _signature(o)
    ]
    assert not differ, differ[:3]
    # The comparison means something: many of these queries hit, and ordinary names mostly do not.
    assert sum(1 for o in one if o) > 1000
    assert sum(1 for q, o in zip(queries, one, strict=True) if o and q.name in ORDINARY) < len(ORDINARY)


@pytest.mark.django_db
def test_screen_subjects_matches_screen_subject_for_every_kind(world, customs_list) -> None:
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.API)

    def subject(kind: str, facts: dict, details: dict | None = None) -> Subject:
        return Subject.objects.create(
            kind=kind, source=source, owner_agency=world.customs, external_id=f"{kind}-{Subject.objects.count()}",
            title="t", facts=facts, details=details or {}, received_at=timezone.now(),
        )  # fmt: skip

    subjects = [
        subject("traveller", {"full_name": "VIKTOR BOUTOV", "date_of_birth": "1967-01-13", "nationality": "RUS",
                              "document_number": "21N0588029"}),
        subject("traveller", {"given_names": "Viktor", "surname": "Bout", "date_of_birth": "1967-03-02"}),
        subject("traveller", {"full_name": "John Smith"}),
        subject("traveller", {}),
        subject("consignment", {"consignor_name": "Acme Trading", "consignee_name": "Maria Gonzales Ruiz"}),
        subject("consignment", {}, {"parties": [{"role": "importer", "name": "Viktor Bout"}]}),
        subject("conveyance", {"vessel_imo": "IMO 9123453", "vessel_name": "Ocean Voyagr"}),
        subject("trader", {"name": "Nobody Special Ltd"}),
    ]  # fmt: skip
    bulk = screen_subjects(subjects)
    for s in subjects:
        one = screen_subject(s)
        assert [h.as_dict() for h in bulk.get(s.pk, [])] == [h.as_dict() for h in one]
    assert len(bulk) == 5


def _shifted(d, years: int, swap: bool = False) -> str:
    """A listed date of birth moved by ``years`` (day and month swapped if asked), as a traveller gives it."""
    month, day = (d.day, d.month) if swap else (d.month, d.day)
    if not d.is_full:
        return f"{d.year + years:04d}"
    return f"{d.year + years:04d}-{month:02d}-{min(day, 28):02d}"


def test_bulk_path_skips_only_what_cannot_reach_the_threshold(index: ScreeningIndex) -> None:
    """The bulk path skips names and rows by the evidence the lists hold (a date of birth years away from
    an entry's, a document no entry lists, an alias graded weak): travellers whose evidence sits on either
    side of those bounds get exactly the per-name hits, under both thresholds."""
    rng = random.Random(9)
    people = [e for e in index.entries if e.kind == "person" and e.dates_of_birth][::11]
    queries = []
    for e in people:
        d = e.dates_of_birth[0]
        doc = e.documents[0].number if e.documents else None
        nat = e.nationalities[0] if e.nationalities else "GB"
        variant = name_variant(e.name, rng)
        for years in (0, 1, 2, 4, 5, -3):
            queries.append(Query(variant, date_of_birth=_shifted(d, years), nationality=nat, kind="person"))
        queries.append(Query(variant, date_of_birth=_shifted(d, 0, swap=True), kind="person"))
        queries.append(
            Query(variant, date_of_birth=str(d.year), nationality="ZZ", document="X1", kind="person")
        )
        queries.append(Query(e.name, date_of_birth=_shifted(d, 7), document=doc, kind="person"))
        queries.append(Query(variant, date_of_birth=_shifted(d, 9), document=doc, threshold=0.8))
        queries.append(Query(e.name, date_of_birth=_shifted(d, 3), kind="person", threshold=0.8))
    bulk = screen_many(index, queries)
    one = [screen_one(index, q) for q in queries]
    differ = [
        (q, _signature(b), _signature(o))
        for q, b, o in zip(queries, bulk, one, strict=True)
        if _signature(b) != _signature(o)
    ]
    assert not differ, differ[:3]
    # Both sides of the bounds are exercised: hits with a near date, none with a far one on a variant.
    assert sum(1 for o in one if o) > len(people)
    assert any(not o for o in one)


def test_bulk_screening_leaves_the_garbage_collector_as_it_found_it(index: ScreeningIndex) -> None:
    assert gc.isenabled()
    screen_many(index, [Query("John Smith"), Query("Maria Garcia", kind="person")])
    assert gc.isenabled()  # paused only while the batch is screened
