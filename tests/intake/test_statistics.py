"""A run re-analyses the tables it grows on a connection of its own (PostgreSQL), beside its next batch,
and has finished doing so when the run ends; a call inside a transaction, or on SQLite, is as before."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from apps.intake import bulk, services
from apps.intake.models import SourceKind, Subject, SubjectKey
from tests.factories import DataSourceFactory
from tests.intake.test_parallel import files


def _record(monkeypatch) -> list[tuple[str, int, bool]]:
    """Each re-analysis: its thread's name, its connection's identity, and whether a transaction was open."""
    calls: list[tuple[str, int, bool]] = []
    real = bulk.analyse_stale_tables

    def watched(*models):
        if Subject not in models:  # the entity linker's own tables (linked inline in tests): not intake's
            return real(*models)
        calls.append((threading.current_thread().name, id(connection.connection), connection.in_atomic_block))
        return real(*models)

    monkeypatch.setattr(bulk, "analyse_stale_tables", watched)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_run_re_analyses_on_a_connection_of_its_own_and_waits_for_it(world, settings, monkeypatch):
    calls = _record(monkeypatch)
    settings.INTAKE_PARSE_PROCESS = False
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="Declarations")
    run = services.start_run(actor=None, source=source, files=[n for n, _ in files()], fmt="declarations-csv")
    services.run_intake(run, files())
    assert calls  # each batch asked, merged at most into one pass a request
    if connection.vendor == "postgresql":
        assert {name for name, _, _ in calls} == {"statistics-keeper"}
        assert all(own != id(connection.connection) for _, own, _ in calls)
        # The run ended with the keeper done and its connection closed: no thread left behind.
        assert not [t for t in threading.enumerate() if t.name == "statistics-keeper"]
    else:
        assert {name for name, _, _ in calls} == {threading.current_thread().name}
    assert Subject.objects.filter(source=source).exists()


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_statistics_are_kept_where_they_were(monkeypatch):
    calls = _record(monkeypatch)
    with bulk.statistics_kept_aside(), transaction.atomic():
        bulk.keep_statistics_current(Subject, SubjectKey)
    assert [(name, atomic) for name, _, atomic in calls] == [(threading.current_thread().name, True)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_keeper_analyses_what_has_grown(monkeypatch):
    """The keeper's pass is ``analyse_stale_tables``: a table whose changes outnumber its rows is analysed."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(bulk, "ANALYZE_MIN_CHANGES", 0)
    done: list[list[str]] = []
    real = bulk.analyse_stale_tables
    monkeypatch.setattr(bulk, "analyse_stale_tables", lambda *m: done.append(real(*m)) or done[-1])
    with bulk.statistics_kept_aside():
        assert bulk.keep_statistics_current(Subject) == []  # handed over: not done here
    assert done and all(set(names) <= {"intake_subject"} for names in done)


@pytest.mark.postgres
@pytest.mark.django_db
def test_analyse_describes_the_columns_queried_and_not_the_json_documents():
    """ANALYZE of subjects (each time a bulk intake doubles the table) sorts no JSON documents: no
    lookup reads their column statistics, and building them was most of its time."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    source = DataSourceFactory(kind=SourceKind.DECLARATION, name="Declarations")
    for n in range(20):
        Subject.objects.create(
            kind="traveller", source=source, owner_agency=source.owner_agency, external_id=f"T{n}",
            title=f"T{n}", facts={"n": n}, details={"n": n}, received_at="2026-12-01T00:00:00Z",
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE intake_subject")
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = 'intake_subject'")
        described = {name for (name,) in cursor.fetchall()}
    assert {"external_id", "kind", "status"} <= described
    assert not described & {"facts", "details"}
