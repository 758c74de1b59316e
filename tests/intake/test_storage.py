"""Intake end to end: real files parsed, normalised, stored once, versioned, linked and refused precisely."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.intake import storing
from apps.intake.models import DataSource, IntakeRun, Message, Outcome, SourceKind, Subject, SubjectLink
from apps.intake.services import ingest_paths
from tests.factories import DataSourceFactory


@pytest.fixture
def sources(world):
    return {
        kind: DataSourceFactory(owner_agency=world.customs, kind=kind, name=f"{kind} source")
        for kind in (SourceKind.API, SourceKind.PNR, SourceKind.DECLARATION, SourceKind.CARGO_MANIFEST)
    }


def ingest(*paths, source=None):
    return ingest_paths(actor=None, source=source, paths=paths)


def test_every_passenger_file_is_stored_or_rejected_with_its_reason(shared_data, sources):
    runs = ingest(
        shared_data / "passenger-messages" / "paxlst", shared_data / "passenger-messages" / "pnrgov"
    )
    by_source = {run.source.kind: run for run in runs if run.source.kind in {"api", "pnr"}}
    api, pnr = by_source["api"], by_source["pnr"]
    assert api.counts["rejected_files"] == 0 and api.counts["subjects"] > 0
    assert pnr.counts["rejected_files"] == 1
    [problem] = pnr.problems
    assert problem["file"].endswith("gtas_pnrBadFormat.txt")
    assert "UNZ segment" in problem["where"] and "line 28" in problem["where"]
    assert pnr.counts["filtered_fields"] > 0  # meal and assistance requests dropped on intake
    travellers = Subject.objects.filter(kind="traveller", source=sources["api"])
    clark = travellers.get(facts__surname="CLARK", facts__given_names="MICHAEL")
    assert clark.facts["route_airports"] == ["ATL", "ORD", "JFK"]
    assert clark.facts["date_of_birth"] == "1972-09-07"
    flight = SubjectLink.objects.get(from_subject=clark, kind="travels_on").to_subject
    assert flight.kind == "conveyance" and flight.facts["flight_number"] == "AA124"


def test_same_message_twice_is_stored_once(shared_data, sources):
    path = shared_data / "passenger-messages" / "pnrgov" / "gtas_2_pnrs_basic.edi"
    [first] = ingest(path)
    count = Subject.objects.count()
    [second] = ingest(path)
    assert first.counts["messages"] == 2 and second.counts["messages"] == 0
    assert second.counts["duplicates"] == 2
    assert Subject.objects.count() == count
    assert Message.objects.filter(source=sources["pnr"]).count() == 2


def test_co_travellers_on_one_booking_are_linked(shared_data, sources):
    ingest(shared_data / "passenger-messages" / "pnrgov" / "gtas_pnrWithBags.txt")
    links = SubjectLink.objects.filter(kind="co_traveller")
    assert links.exists()
    link = links.first()
    assert link.from_subject.facts["booking_ref"] == link.to_subject.facts["booking_ref"]


def test_same_person_on_another_flight_is_linked_by_document(shared_data, sources, tmp_path):
    original = (
        shared_data / "passenger-messages" / "paxlst" / "gtas_multiple_flight_leg_apis.txt"
    ).read_text()
    later = original.replace("UNH+", "UNH+9", 1)
    for old, new in (("TDT+20+", "TDT+20+X"),):
        later = later.replace(old, new)
    (tmp_path / "later.edi").write_text(later)
    ingest(shared_data / "passenger-messages" / "paxlst" / "gtas_multiple_flight_leg_apis.txt")
    ingest(tmp_path / "later.edi")
    same = SubjectLink.objects.filter(kind="same_person")
    assert same.exists()
    for link in same:
        assert link.from_subject.facts["document_number"] == link.to_subject.facts["document_number"]
        assert link.from_subject.facts["flight_number"] != link.to_subject.facts["flight_number"]


def test_same_person_with_a_new_document_is_linked_by_name_and_date_of_birth(shared_data, sources, tmp_path):
    path = shared_data / "passenger-messages" / "paxlst" / "gtas_multiple_flight_leg_apis.txt"
    later = path.read_text().replace("UNH+", "UNH+9", 1).replace("TDT+20+", "TDT+20+X")
    for number, renewed in (("YY3478621G", "ZZ0000001"), ("TRQWE99800", "ZZ0000002")):
        assert f"DOC+P:110:111+{number}'" in later
        later = later.replace(f"DOC+P:110:111+{number}'", f"DOC+P:110:111+{renewed}'")
    (tmp_path / "later.edi").write_text(later)
    ingest(path)
    first = set(Subject.objects.filter(kind="traveller").values_list("pk", flat=True))
    ingest(tmp_path / "later.edi")
    same = list(SubjectLink.objects.filter(kind="same_person").select_related("from_subject", "to_subject"))
    assert len(same) == 2
    for link in same:
        new, old = link.from_subject, link.to_subject
        assert link.reason == "same name and date of birth"
        assert new.pk not in first and old.pk in first
        assert (new.facts["surname"], new.facts["date_of_birth"]) == (
            old.facts["surname"],
            old.facts["date_of_birth"],
        )
        assert new.facts["document_number"] != old.facts["document_number"]


def test_same_person_links_within_a_batch_and_across_api_and_pnr(shared_data, sources):
    """One API list holds several travellers on one document (linked among themselves, each pair once),
    and a PNR passenger holds it too (linked to them). A superseded version is never linked to."""
    folder = shared_data / "passenger-messages"
    ingest(folder / "paxlst")
    api_links = set(SubjectLink.objects.filter(kind="same_person").values_list("from_subject", "to_subject"))
    assert api_links and all(a < b for a, b in api_links)  # both new: the pair once, from the lower id
    ingest(folder / "pnrgov")
    links = SubjectLink.objects.filter(kind="same_person").select_related("from_subject", "to_subject")
    across = [link for link in links if link.from_subject.source_id != link.to_subject.source_id]
    assert across
    for link in across:
        assert link.from_subject.source == sources["pnr"] and link.to_subject.source == sources["api"]
        assert link.reason == "same travel document"
        assert link.from_subject.facts["document_number"] == link.to_subject.facts["document_number"]
    assert not links.filter(to_subject__status=Subject.Status.SUPERSEDED).exists()


def test_declaration_amendment_supersedes_and_keeps_history(shared_data, sources):
    folder = shared_data / "cargo" / "wco-dec"
    ingest(folder / "TT_IM002a.xml")
    [original] = Subject.objects.filter(source=sources["declaration"], kind="consignment")
    ingest(folder / "TT_IM002c_Complex_Multi_Amendment.xml")
    versions = Subject.objects.filter(
        source=sources["declaration"], external_id=original.external_id
    ).order_by("version")
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "current")]


def test_broken_xml_is_refused_naming_line_and_nothing_is_stored(shared_data, sources):
    [run] = ingest(shared_data / "cargo" / "wco-dec" / "TT_IM084a.xml")
    assert run.status == IntakeRun.Status.DONE_WITH_REJECTS
    [problem] = run.problems
    assert problem["where"].startswith("line 164") and "not well-formed" in problem["reason"]
    assert not Subject.objects.filter(source=sources["declaration"]).exists()


def test_declarations_csv_stores_labels_as_history(shared_data, sources, tmp_path):
    lines = (shared_data / "declarations" / "df_syn_valid_eng.csv").read_text().splitlines()[:201]
    path = tmp_path / "sample.csv"
    path.write_text("\n".join(lines) + "\n")
    [run] = ingest(path)
    assert run.counts["subjects"] >= 200 and run.counts["problems"] == 0
    consignments = Subject.objects.filter(kind="consignment", source=sources["declaration"])
    assert consignments.count() == 200
    expected_findings = sum(1 for line in lines[1:] if int(line.split(",")[-2]) >= 1)
    assert Outcome.objects.filter(finding=True, origin="imported").count() == expected_findings
    first = consignments.get(facts__declaration_id=lines[1].split(",")[0])
    assert first.facts["hs6"] == lines[1].split(",")[12]
    importer = SubjectLink.objects.get(from_subject=first, kind="party", reason="importer").to_subject
    assert importer.kind == "trader" and importer.facts["trader_id"] == lines[1].split(",")[9]


def test_bad_csv_row_names_line_and_column_and_good_rows_are_kept(shared_data, sources, tmp_path):
    lines = (shared_data / "declarations" / "df_syn_valid_eng.csv").read_text().splitlines()[:4]
    broken = lines[2].split(",")
    broken[18] = "heavy"  # Net Mass
    lines[2] = ",".join(broken)
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n")
    [run] = ingest(path)
    assert Subject.objects.filter(kind="consignment").count() == 2
    [problem] = run.problems
    assert problem["where"] == "line 3, column 'Net Mass'" and "heavy" in problem["reason"]


def test_ingest_command_summarises_and_fails_on_rejects(shared_data, sources):
    out, err = io.StringIO(), io.StringIO()
    waybills = sorted(str(p) for p in (shared_data / "cargo" / "xfwb").glob("*.xml"))
    call_command("ingest", *waybills, stdout=out, stderr=err, verbosity=0)
    assert "messages stored" in out.getvalue()
    with pytest.raises(CommandError) as failure:
        call_command(
            "ingest", str(shared_data / "passenger-messages" / "pnrgov"), stdout=out, stderr=err, verbosity=0
        )
    assert "problem" in str(failure.value)
    assert "gtas_pnrBadFormat.txt" in err.getvalue()


def test_ingest_command_names_unknown_source(db):
    with pytest.raises(CommandError, match="no data source named 'Nope'"):
        call_command("ingest", "x", "--source", "Nope")


def test_port_is_resolved_from_iata_and_locode(shared_data, sources, world):
    world.port_b.iata_code = "JFK"
    world.port_b.save()
    ingest(shared_data / "passenger-messages" / "paxlst" / "gtas_apisMessage.txt")
    clark = Subject.objects.get(kind="traveller", facts__given_names="MICHAEL")
    assert clark.port == world.port_b


def test_runs_and_messages_belong_to_the_source(shared_data, sources):
    [run] = ingest(shared_data / "cargo" / "xfwb" / "xfwbExample.xml")
    assert run.source == sources["cargo_manifest"]
    assert DataSource.objects.get(pk=run.source_id).messages.count() == 1


def test_importers_earlier_declarations_are_counted_for_first_time_importer_rules(
    shared_data, sources, tmp_path
):
    lines = (shared_data / "declarations" / "df_syn_valid_eng.csv").read_text().splitlines()
    header, first = lines[0], lines[1].split(",")
    importer = first[9]
    rows = [",".join([f"{n}{first[0]}", *first[1:]]) for n in range(1, 4)]  # the same importer three times
    (tmp_path / "a.csv").write_text("\n".join([header, rows[0]]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([header, rows[1], rows[2]]) + "\n")
    ingest(tmp_path / "a.csv")
    ingest(tmp_path / "b.csv")
    counts = sorted(
        s.facts["importer_previous_declarations"]
        for s in Subject.objects.filter(kind="consignment", facts__importer_id=importer)
    )
    assert counts == [0, 1, 2]


def test_runs_from_the_command_name_files_without_the_servers_folders(tmp_path, sources):
    """The run page, its problems and each message's provenance show a file's name, not where it lay."""
    bad = tmp_path / "drop" / "2026" / "broken.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"not": "a known message"')
    runs = ingest(bad, source=sources[SourceKind.API])
    shown = " ".join(str(x) for run in runs for x in (run.files, run.problems))
    assert "broken.json" in shown and str(tmp_path) not in shown and "drop/2026" not in shown
    assert not Message.objects.filter(file_name__contains=str(tmp_path)).exists()


@pytest.mark.django_db
def test_the_same_person_twice_in_a_batch_is_linked_once_and_never_to_a_superseded_version():
    """Pairs within a batch come from the batch's own keys (looked up before they are stored): from the
    lower id to the higher, once, whichever keys they share, and never to a version the same batch
    superseded."""
    links = storing.same_person_links({"doc:P1": {7, 3, 9}, "namedob:A|2000-01-01": {3, 7}}, superseded={9})
    assert sorted((link["from_subject_id"], link["to_subject_id"]) for link in links) == [(3, 7)]
    assert links[0]["reason"] == "same travel document"


@pytest.mark.django_db(transaction=True)
def test_in_a_run_the_same_person_look_up_reads_beside_the_batch_and_never_links_what_it_supersedes(
    shared_data, sources, tmp_path, monkeypatch
):
    """A run looks up earlier records of the same person on a connection of its own (PostgreSQL), while
    its batch is written. That connection still sees as current the versions the batch replaces: they are
    never linked to. Travellers of a list sent again in a new message are new versions of themselves, not
    the same person as their old versions; the same people on another flight are."""
    readers: list[tuple[str, bool]] = []
    real = storing.read_beside

    def watched(fn, **kwargs):
        def recorded():
            readers.append((threading.current_thread().name, connection.in_atomic_block))
            return fn()

        return real(recorded, **kwargs)

    monkeypatch.setattr(storing, "read_beside", watched)
    path = shared_data / "passenger-messages" / "paxlst" / "gtas_multiple_flight_leg_apis.txt"
    (tmp_path / "again.edi").write_text(path.read_text().replace("UNH+", "UNH+9", 1))
    (tmp_path / "another-flight.edi").write_text(
        path.read_text().replace("UNH+", "UNH+8", 1).replace("TDT+20+", "TDT+20+X")
    )
    ingest(path)
    [again] = ingest(tmp_path / "again.edi")
    assert again.counts["superseded"] == again.counts["subjects"] > 0  # every traveller a new version
    assert not SubjectLink.objects.filter(kind="same_person").exists()
    ingest(tmp_path / "another-flight.edi")
    same = SubjectLink.objects.filter(kind="same_person").select_related("from_subject", "to_subject")
    assert same and all(link.to_subject.status == Subject.Status.CURRENT for link in same)
    assert all(
        link.from_subject.facts["flight_number"] != link.to_subject.facts["flight_number"] for link in same
    )
    if connection.vendor == "postgresql":
        assert readers and all(name.startswith("intake-reads") and not atomic for name, atomic in readers)
        # Its connection closed and its thread gone with the run.
        assert not [t for t in threading.enumerate() if t.name.startswith("intake-reads")]
    else:
        assert readers and {name for name, _ in readers} == {threading.current_thread().name}
