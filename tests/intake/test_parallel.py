"""A run of several files parses the next ones in a process of its own while it stores this one: the
results, their order, the problems named by file and line, and what is stored are those of parsing the
files one after the other."""

from __future__ import annotations

import pytest

from apps.intake import parallel, services
from apps.intake.models import Message, SourceKind, Subject
from tests.factories import DataSourceFactory


def declarations(first: int, count: int, *, bad_line: int | None = None) -> bytes:
    header = (
        "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,"
        "Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,"
        "Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud"
    )
    rows = []
    for i in range(first, first + count):
        date = "not-a-date" if bad_line is not None and len(rows) + 2 == bad_line else "2020-01-01"
        rows.append(
            f"{i},{date},30,B,11,21,11,10,ZZR1LT6,IMP{i % 3},0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,1000.0,0,0"
        )
    return "\n".join([header, *rows]).encode() + b"\n"


def files() -> list[tuple[str, bytes]]:
    """Five files (more than the parsing process's look-ahead), the third with a bad line 3."""
    return [(f"part-{n}.csv", declarations(1000 * n, 4, bad_line=3 if n == 2 else None)) for n in range(5)]


def summary(results) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    return [
        (name, [m.message_key for m in r.messages], [(p.file, p.where) for p in r.problems])
        for name, r in results
    ]


def test_the_parsing_process_gives_what_parsing_in_turn_gives(settings):
    settings.INTAKE_PARSE_PROCESS = False
    alone = summary(parallel.parsed_files(iter(files()), fmt="declarations-csv", register=False))
    settings.INTAKE_PARSE_PROCESS = True
    ahead = summary(parallel.parsed_files(iter(files()), fmt="declarations-csv", register=False))
    assert ahead == alone
    assert [name for name, _, _ in ahead] == [f"part-{n}.csv" for n in range(5)]
    # The bad row is named by its file and line, and the file's good rows are kept.
    assert ahead[2][2] and all(f == "part-2.csv" for f, _ in ahead[2][2])
    assert any("3" in where for _, where in ahead[2][2])
    assert len(ahead[2][1]) == 3


def test_a_parser_that_fails_fails_the_run_as_before(settings, monkeypatch):
    settings.INTAKE_PARSE_PROCESS = True
    broken = [(f"x{n}.csv", b"\xff" * 10) for n in range(4)]
    results = list(parallel.parsed_files(iter(broken), fmt="auto", register=False))
    # Not a recognised format: one problem naming each file, in order, nothing lost in the process.
    assert [name for name, _ in results] == ["x0.csv", "x1.csv", "x2.csv", "x3.csv"]
    assert all(r.problems and r.problems[0].file == name for name, r in results)


@pytest.mark.django_db(transaction=True)
def test_a_run_of_many_files_stores_each_once_with_the_parsing_process(world, settings):
    settings.INTAKE_PARSE_PROCESS = True
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="Declarations")
    run = services.start_run(actor=None, source=source, files=[n for n, _ in files()], fmt="declarations-csv")
    services.run_intake(run, files())
    run.refresh_from_db()
    assert run.counts["files"] == 5
    assert run.counts["messages"] == 19  # 5 files of 4, one bad row
    assert [p["file"] for p in run.problems] == ["part-2.csv"]
    assert Message.objects.filter(source=source).count() == 19
    assert Subject.objects.filter(source=source, kind="consignment", status="current").count() == 19
    # Sent again: nothing stored twice.
    again = services.start_run(
        actor=None, source=source, files=[n for n, _ in files()], fmt="declarations-csv"
    )
    services.run_intake(again, files())
    again.refresh_from_db()
    assert again.counts["duplicates"] == 19 and again.counts["messages"] == 0
    assert Message.objects.filter(source=source).count() == 19


@pytest.mark.parametrize("in_a_process", [False, True])
def test_files_are_read_a_few_ahead_never_all_at_once(settings, in_a_process):
    settings.INTAKE_PARSE_PROCESS = in_a_process
    read: list[str] = []

    def payloads():
        for n in range(10):
            read.append(f"f{n}.csv")
            yield f"f{n}.csv", declarations(100 * n, 2)

    results = parallel.parsed_files(payloads(), fmt="declarations-csv", register=False)
    name, _ = next(results)
    assert name == "f0.csv"
    assert len(read) <= parallel.AHEAD + 2  # the look-ahead and the next one asked for, not ten
    assert [n for n, _ in results] == [f"f{n}.csv" for n in range(1, 10)]


def test_the_parsing_process_normalises_as_storing_would(settings):
    """The drafts made in the parsing process are those storing would make from the records (the same
    keyed hashes: the process is handed its parent's secret), and only the drafts cross back."""
    from apps.intake.normalise import drafts_for
    from apps.intake.normalise.drafts import key_secret, use_key_secret

    settings.INTAKE_PARSE_PROCESS = False
    alone = [r for _, r in parallel.parsed_files(iter(files()), fmt="declarations-csv", register=False)]
    settings.INTAKE_PARSE_PROCESS = True
    mine = key_secret()
    use_key_secret(b"a secret the environment does not have")  # the process must use this one
    try:
        ahead = [r for _, r in parallel.parsed_files(iter(files()), fmt="declarations-csv", register=False)]
        expected = [
            [
                (d.external_id, d.facts, d.details, sorted(d.keys))
                for rec in m.records
                for d in drafts_for(rec)
            ]
            for r in alone
            for m in r.messages
        ]
    finally:
        use_key_secret(mine)
    made = [
        [(d.external_id, d.facts, d.details, sorted(d.keys)) for d in m.drafts]
        for r in ahead
        for m in r.messages
    ]
    assert made == expected and any(made)
    assert all(m.records == [] for r in ahead for m in r.messages)
    assert all(m.drafts is None and m.records for r in alone for m in r.messages)


def test_the_parsing_process_sends_the_documents_back_as_the_copy_text_storing_would_write(settings):
    """The drafts cross back with their facts and details as the COPY text ``bulk_insert_rows`` would
    write for them (those of the subjects they link to too) and, beside it, only the facts storing reads;
    a draft whose facts storing changes (an importer's count of declarations) comes back whole."""
    from apps.intake.bulk import json_copy_text
    from apps.intake.normalise import drafts_for
    from apps.intake.normalise.drafts import FACTS_READ_WHEN_STORED

    def with_linked(drafts):
        return [one for d in drafts for one in (d, *(other for other, _, _ in d.links))]

    settings.INTAKE_PARSE_PROCESS = False
    alone = [r for _, r in parallel.parsed_files(iter(files()), fmt="declarations-csv", register=False)]
    expected = with_linked(
        [d for r in alone for m in r.messages for rec in m.records for d in drafts_for(rec)]
    )
    settings.INTAKE_PARSE_PROCESS = True
    ahead = [r for _, r in parallel.parsed_files(iter(files()), fmt="declarations-csv", register=False)]
    made = with_linked([d for r in ahead for m in r.messages for d in m.drafts])

    assert len(made) == len(expected) and any(d.kind == "trader" for d in made)
    for draft, local in zip(made, expected, strict=True):
        assert draft.external_id == local.external_id
        assert draft.copy_json == (json_copy_text(local.facts), json_copy_text(local.details))
        if "importer_id" in local.facts:  # counted when stored: its facts cross back whole
            assert draft.whole and (draft.facts, draft.details) == (local.facts, local.details)
        else:
            assert not draft.whole and draft.details == {}
            assert draft.facts == {k: v for k, v in local.facts.items() if k in FACTS_READ_WHEN_STORED}


def test_a_draft_crosses_to_the_storing_process_with_every_field_and_its_links():
    """Drafts are pickled by hand (their constructor's arguments, links as state): every field comes
    back, links to each other included, in a circle too."""
    import dataclasses
    import pickle
    from datetime import UTC, datetime

    from apps.intake.normalise import SubjectDraft

    a = SubjectDraft(
        kind="traveller", external_id="pnr:ABC:1", title="A", facts={"mrn": "X"}, details={},
        arrival_at=datetime(2026, 12, 5, 9, 0, tzinfo=UTC), port_code="LHR", keys=["doc:1"],
        label=(True, 3), copy_json=('{"mrn":"X"}', "{}"), whole=False,
    )  # fmt: skip
    b = SubjectDraft(kind="traveller", external_id="pnr:ABC:2", title="B", facts={}, details={"d": [1]})
    a.links.append((b, "co_traveller", "same booking ABC"))
    b.links.append((a, "co_traveller", "same booking ABC"))  # a circle

    a2 = pickle.loads(pickle.dumps(a, pickle.HIGHEST_PROTOCOL))  # noqa: S301  # our own bytes, as the process pool sends them
    b2, kind, reason = a2.links[0]
    assert (kind, reason) == ("co_traveller", "same booking ABC") and b2.links[0][0] is a2
    for before, after in ((a, a2), (b, b2)):
        for field in dataclasses.fields(SubjectDraft):
            if field.name != "links":
                assert getattr(after, field.name) == getattr(before, field.name), field.name


@pytest.mark.django_db(transaction=True)
def test_travellers_are_stored_the_same_whether_or_not_a_process_parsed_them(world, settings, shared_data):
    """The shared API and PNR messages, stored in a run with the parsing process (the documents cross
    back as text alone) and without it: the same subjects, facts, details, keys and links."""
    from apps.intake.models import SubjectKey, SubjectLink

    folders = [shared_data / "passenger-messages" / "paxlst", shared_data / "passenger-messages" / "pnrgov"]
    payloads = [(p.name, p.read_bytes()) for folder in folders for p in sorted(folder.iterdir())]
    assert len(payloads) > parallel.AHEAD + 1  # enough files for the process to be used

    def stored(in_a_process: bool, name: str):
        settings.INTAKE_PARSE_PROCESS = in_a_process
        source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR, name=name)
        run = services.start_run(actor=None, source=source, files=[n for n, _ in payloads])
        services.run_intake(run, payloads)
        subjects = {
            s.pk: (s.kind, s.external_id, s.version, s.status) for s in Subject.objects.filter(source=source)
        }
        documents = {
            subjects[s.pk]: (s.title, s.facts, s.details, s.arrival_at)
            for s in Subject.objects.filter(source=source)
        }
        keys = sorted(
            (subjects[k.subject_id], k.key) for k in SubjectKey.objects.filter(subject__source=source)
        )
        links = sorted(
            (subjects[k.from_subject_id], subjects[k.to_subject_id], k.kind, k.reason)
            # Within the source: the second run's travellers are also the same people as the first's.
            for k in SubjectLink.objects.filter(from_subject__source=source, to_subject__source=source)
        )
        return documents, keys, links

    alone, ahead = stored(False, "One after the other"), stored(True, "In a process")
    assert ahead == alone
    documents, keys, links = ahead
    travellers = [facts for (kind, *_), (_, facts, _, _) in documents.items() if kind == "traveller"]
    assert len(travellers) > 20 and all(f["full_name"] for f in travellers)
    assert any(details for _, _, details, _ in documents.values()) and keys and links


@pytest.mark.django_db(transaction=True)
def test_facts_changed_when_stored_are_stored_changed_with_the_parsing_process(world, settings):
    """A consignment's count of its importer's earlier declarations is set when it is stored, after the
    parsing process encoded its facts: what is stored is the same as without that process."""

    def stored(in_a_process: bool, name: str) -> dict[str, dict]:
        settings.INTAKE_PARSE_PROCESS = in_a_process
        source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name=name)
        run = services.start_run(
            actor=None, source=source, files=[n for n, _ in files()], fmt="declarations-csv"
        )
        services.run_intake(run, files())
        return {s.external_id: s.facts for s in Subject.objects.filter(source=source, kind="consignment")}

    alone, ahead = stored(False, "One after the other"), stored(True, "In a process")
    assert ahead == alone and len(ahead) == 19
    assert {f["importer_previous_declarations"] for f in ahead.values()} == set(range(7))
