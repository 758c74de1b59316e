"""Intake stores each message once however its work is delivered: a task delivered twice, a worker
killed half-way, two workers storing the same declarations at once (PostgreSQL), and the database
refuses a second current version of anything."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from apps.core.models import StoredFile
from apps.core.storage import uploads
from apps.intake import services, tasks
from apps.intake.models import IntakeRun, Message, SourceKind, Subject
from apps.intake.parsers.declarations_csv import parse_declarations_csv
from ratc_ops.celery import app as celery_app
from tests.factories import DataSourceFactory

HEADER = (
    "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,"
    "Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,"
    "Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud"
)


def row(declaration: str, importer: str = "QLRUBN9", price: str = "372254.4") -> str:
    return (
        f"{declaration},2020-01-01,30,B,11,21,11,10,ZZR1LT6,{importer},0VKY2BR,,440890,BE,BE,0.0,FEU1,G,"
        f"108.0,{price},0,0"
    )


def csv(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode() + b"\n"


@pytest.fixture
def source(world):
    return DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="Declarations")


#: The traders one row names (declarant, importer, seller), each stored once per source.
TRADERS = 3


def stored_counts(source) -> tuple[int, int, int, int]:
    """Messages, current declarations, all declaration versions and traders of the source."""
    subjects = Subject.objects.filter(source=source)
    return (
        Message.objects.filter(source=source).count(),
        subjects.filter(kind="consignment", status="current").count(),
        subjects.filter(kind="consignment").count(),
        subjects.filter(kind="trader").count(),
    )


def queue_upload(actor, source, files, django_capture_on_commit_callbacks) -> tuple[IntakeRun, list[str]]:
    """Upload through the service as the page does, and return the run and what its task was given,
    without running the task (as a web process that only queues it)."""
    delayed = []
    original = tasks.run_intake_task.delay
    tasks.run_intake_task.delay = lambda *args: delayed.append(args)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = services.submit_files(actor=actor, source=source, files=files)
    finally:
        tasks.run_intake_task.delay = original
    [(run_id, stored)] = delayed
    assert run_id == run.pk
    return run, stored


def test_a_task_delivered_twice_stores_nothing_twice(
    customs_analyst, source, django_capture_on_commit_callbacks
):
    files = [("week1.csv", [csv(row("90000001"), row("90000002"))]), ("week2.csv", [csv(row("90000003"))])]
    run, stored = queue_upload(customs_analyst, source, files, django_capture_on_commit_callbacks)
    assert all(uploads().exists(name) for name in stored)

    tasks.run_intake_task(run.pk, stored)
    after_first = stored_counts(source)
    tasks.run_intake_task(run.pk, stored)  # the broker delivers it again (acks_late, a lost ack)

    assert after_first == (3, 3, 3, TRADERS)
    assert stored_counts(source) == after_first
    run.refresh_from_db()
    assert run.status == IntakeRun.Status.DONE and run.counts["messages"] == 3
    assert not any(uploads().exists(name) for name in stored)  # gone once the run was recorded done


def test_a_worker_killed_half_way_leaves_the_files_and_the_next_delivery_finishes_once(
    customs_analyst, source, django_capture_on_commit_callbacks, monkeypatch
):
    files = [("a.csv", [csv(row("91000001"), row("91000002"))]), ("b.csv", [csv(row("91000003"))])]
    run, stored = queue_upload(customs_analyst, source, files, django_capture_on_commit_callbacks)

    class Killed(BaseException):
        """Stands for kill -9: nothing after it runs (so the task's clean-up is switched off too)."""

    real_store = services.store_messages
    calls = []

    def store_then_die(**kwargs):
        if calls:
            raise Killed
        calls.append(1)
        return real_store(**kwargs)

    monkeypatch.setattr(services, "store_messages", store_then_die)
    monkeypatch.setattr(tasks.uploads, "discard", lambda names: None)
    with pytest.raises(Killed):
        tasks.run_intake_task(run.pk, stored)
    assert stored_counts(source)[0] == 2  # the first file's batch was committed
    assert IntakeRun.objects.get(pk=run.pk).status == IntakeRun.Status.RUNNING
    monkeypatch.undo()

    tasks.run_intake_task(run.pk, stored)  # redelivered to another worker

    assert stored_counts(source) == (3, 3, 3, TRADERS)
    run.refresh_from_db()
    assert run.status == IntakeRun.Status.DONE and run.counts["files"] == 2
    assert not StoredFile.objects.filter(name__in=stored).exists() and not any(
        uploads().exists(n) for n in stored
    )


def run_as_a_worker(monkeypatch, run, stored):
    """Run the task in this process the way a worker does (an error is recorded, not raised), so that
    each retry it asks for runs inline, at once, instead of a countdown later."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    return tasks.run_intake_task.apply(args=(run.pk, stored))


def test_a_database_restart_mid_run_is_retried_and_loses_nothing(
    customs_analyst, source, django_capture_on_commit_callbacks, monkeypatch
):
    files = [("a.csv", [csv(row("91100001"), row("91100002"))]), ("b.csv", [csv(row("91100003"))])]
    run, stored = queue_upload(customs_analyst, source, files, django_capture_on_commit_callbacks)
    real_store = services.store_messages
    calls = []

    def store_with_a_restart(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second file's batch meets a restarting server
            raise OperationalError("server closed the connection unexpectedly")
        return real_store(**kwargs)

    monkeypatch.setattr(services, "store_messages", store_with_a_restart)
    result = run_as_a_worker(monkeypatch, run, stored)

    assert result.successful()
    assert len(calls) == 3  # two files, then the second again: the first was counted done
    assert stored_counts(source) == (3, 3, 3, TRADERS)
    run.refresh_from_db()
    assert run.status == IntakeRun.Status.DONE and run.counts["messages"] == 3
    assert not any(uploads().exists(name) for name in stored)


def test_a_database_that_stays_away_fails_the_run_once_the_retries_are_spent(
    customs_analyst, source, django_capture_on_commit_callbacks, monkeypatch
):
    files = [("a.csv", [csv(row("91200001"))])]
    run, stored = queue_upload(customs_analyst, source, files, django_capture_on_commit_callbacks)
    attempts = []

    def never(**kwargs):
        attempts.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "store_messages", never)
    monkeypatch.setattr(tasks.run_intake_task, "max_retries", 2)
    result = run_as_a_worker(monkeypatch, run, stored)

    assert result.failed() and len(attempts) == 3
    run.refresh_from_db()
    assert run.status == IntakeRun.Status.FAILED and run.finished_at is not None
    assert not any(uploads().exists(name) for name in stored)


def test_the_database_refuses_a_second_current_version(source):
    services.store_messages(source=source, parsed=[(m, "x.csv") for m in parse(row("92000001")).messages])
    first = Subject.objects.get(source=source, kind="consignment")
    twin = Subject.objects.get(pk=first.pk)
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    twin.status = Subject.Status.SUPERSEDED  # an earlier version beside it is history, and allowed
    twin.save()


def parse(*rows: str):
    return parse_declarations_csv(csv(*rows), file="x.csv")


# --- two workers at once (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("second", "versions"),
    [(row("93000001"), 1), (row("93000001", price="999.0"), 2)],
    ids=["the-same-declaration", "a-new-version-of-it"],
)
def test_two_workers_storing_the_same_declaration_leave_one_current_version_and_one_trader(
    source, monkeypatch, second, versions
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers itself (the embedded mode has one)")
    # Each worker dwells between its reads and its writes, so that without a lock both would read
    # "nothing stored yet" and both would insert.
    real = services._count_previous_declarations

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_count_previous_declarations", slow)
    batches = [parse(row("93000001")).messages, parse(second).messages]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(messages) -> None:
        try:
            barrier.wait()
            services.store_messages(source=source, parsed=[(m, "x.csv") for m in messages])
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(batch,)) for batch in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert stored_counts(source) == (versions, 1, versions, TRADERS)
    latest = Subject.objects.get(source=source, kind="consignment", status="current")
    assert latest.version == versions


def test_a_run_interrupted_after_a_commit_has_counted_exactly_what_it_stored(source, settings, monkeypatch):
    """A file's progress and counts are saved in its last batch's transaction: wherever a run is cut off,
    the files it says it has done are the files whose messages are stored, and none more."""
    settings.INTAKE_PARSE_PROCESS = False
    real = services.keep_statistics_current
    calls = []

    def cut_off_after_the_second_commit(*models):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*models)

    monkeypatch.setattr(services, "keep_statistics_current", cut_off_after_the_second_commit)
    files = [
        ("a.csv", csv(row("91200001"), row("91200002"))),
        ("b.csv", csv(row("91200003"))),
        ("c.csv", csv()),
    ]
    run = services.start_run(actor=None, source=source, files=[n for n, _ in files], fmt="declarations-csv")
    with pytest.raises(OperationalError):
        services.run_intake(run, files)
    run.refresh_from_db()
    assert run.status == IntakeRun.Status.RUNNING  # to be resumed by the task's retry
    assert run.progress_done == 2
    assert run.counts["messages"] == Message.objects.filter(run=run).count() == 3
