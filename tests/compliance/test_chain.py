"""Tamper evidence that holds against a database writer (issue 16, finding 10).

The intruder here can run any SQL, but has neither the chain key nor the anchor file.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from apps.compliance import anchors
from apps.compliance.chain import ChainHead, append, seal
from apps.compliance.models import AccessLogEntry
from apps.compliance.verification import verify_chain

LABEL = "compliance.accesslogentry"


def log(world, user, n: int) -> list[AccessLogEntry]:
    return [
        append(
            AccessLogEntry,
            at=timezone.now(),
            user=user,
            agency=world.customs,
            action="view",
            purpose="audit",
            object_type="subject",
            object_id=str(i),
            summary=f"view {i}",
        )
        for i in range(n)
    ]


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:  # underneath the application, as an intruder would
        cursor.execute(statement, params or [])


def rows() -> list[dict]:
    return list(AccessLogEntry.objects.order_by("seq").values())


def test_a_normal_log_verifies_intact(world, customs_analyst):
    log(world, customs_analyst, 5)
    full = verify_chain(AccessLogEntry)
    assert full.ok and full.rows == 5 and full.checked == 5
    assert [r["seq"] for r in rows()] == [1, 2, 3, 4, 5]
    assert all(r["mac"] and r["key_id"] for r in rows())
    out = io.StringIO()
    call_command("verify_chain", stdout=out)
    assert "access log entries: 5 rows, chain intact" in out.getvalue()
    assert ChainHead.objects.get(chain=LABEL).verified_seq == 5


@pytest.mark.parametrize("full", [True, False])
def test_removing_the_last_row_and_stepping_the_head_back_is_found(world, customs_analyst, full):
    log(world, customs_analyst, 5)
    assert verify_chain(AccessLogEntry).ok  # anchors a checkpoint at #5 outside the database
    fourth = AccessLogEntry.objects.get(seq=4)
    sql("DELETE FROM compliance_accesslogentry WHERE seq = 5")
    sql("UPDATE compliance_chainhead SET seq = 4, hash = %s WHERE chain = %s", [fourth.hash, LABEL])

    report = verify_chain(AccessLogEntry, full=full)

    assert not report.ok and report.first_broken_seq == 5
    assert "rows after #4 were removed" in report.reason and "reached #5" in report.reason


def test_rows_removed_after_the_seal_anchored_them_are_found(
    world, customs_analyst, settings, django_capture_on_commit_callbacks
):
    """No verification ran yet: the seal's own anchor is enough."""
    settings.RATC_CHAIN_ANCHOR_SECONDS = 0
    log(world, customs_analyst, 3)
    with django_capture_on_commit_callbacks(execute=True):
        seal(AccessLogEntry)
    assert anchors.latest_anchors(LABEL).head.seq == 3
    second = AccessLogEntry.objects.get(seq=2)
    sql("DELETE FROM compliance_accesslogentry WHERE seq = 3")
    sql("UPDATE compliance_chainhead SET seq = 2, hash = %s WHERE chain = %s", [second.hash, LABEL])

    report = verify_chain(AccessLogEntry)

    assert not report.ok and "rows after #2 were removed" in report.reason


def _old_sha256(seq: int, prev: str, payload: str) -> str:
    return hashlib.sha256(f"{seq}|{prev}|{payload}".encode()).hexdigest()


def _hmac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("how", ["plain sha256", "the right algorithm with a guessed key"])
@pytest.mark.parametrize("full", [True, False])
def test_editing_a_row_and_recomputing_the_later_links_is_found(world, customs_analyst, how, full):
    log(world, customs_analyst, 5)
    assert verify_chain(AccessLogEntry).ok
    sql("UPDATE compliance_accesslogentry SET summary = 'nothing to see' WHERE seq = 3")
    previous = AccessLogEntry.objects.get(seq=2).hash
    guessed = b"not-the-key"
    for seq in (3, 4, 5):  # recompute from the changed row on, and move the head along
        row = AccessLogEntry.objects.get(seq=seq)
        if how == "plain sha256":  # what sufficed before: the chain of unkeyed hashes
            link = _old_sha256(seq, previous, row.payload())
        else:
            mac = _hmac(guessed, f"{row.pk}|{row.key_id}|{row.payload()}")
            link = _hmac(guessed, f"{seq}|{previous}|{row.pk}|{mac}")
            sql("UPDATE compliance_accesslogentry SET mac = %s WHERE seq = %s", [mac, seq])
        sql(
            "UPDATE compliance_accesslogentry SET prev_hash = %s, hash = %s WHERE seq = %s",
            [previous, link, seq],
        )
        previous = link
    sql("UPDATE compliance_chainhead SET hash = %s WHERE chain = %s", [previous, LABEL])

    report = verify_chain(AccessLogEntry, full=full)

    assert not report.ok
    # In full the changed row itself is named; from the checkpoint, the checkpoint's row no longer matches.
    assert report.first_broken_seq == (3 if full else 5)


def test_incremental_verification_reads_only_the_rows_after_the_checkpoint(
    world, customs_analyst, django_assert_max_num_queries
):
    log(world, customs_analyst, 40)
    assert verify_chain(AccessLogEntry, full=False).checked == 40  # no checkpoint yet: reads all
    log(world, customs_analyst, 3)
    with django_assert_max_num_queries(16):
        report = verify_chain(AccessLogEntry, full=False)
    assert report.ok and report.rows == 43 and report.checked == 3
    assert verify_chain(AccessLogEntry, full=False).checked == 0
    assert verify_chain(AccessLogEntry, full=True).checked == 43


def test_a_rolled_back_append_leaves_no_hole(world, customs_analyst):
    log(world, customs_analyst, 2)
    with pytest.raises(RuntimeError), transaction.atomic():
        log(world, customs_analyst, 1)
        raise RuntimeError("the request failed after appending")
    log(world, customs_analyst, 2)
    report = verify_chain(AccessLogEntry)
    assert report.ok and report.rows == 4


def test_a_copied_row_does_not_verify(world, customs_analyst):
    """The row's HMAC covers its id: a row inserted by copying another's values and HMAC is found."""
    (first,) = log(world, customs_analyst, 1)
    columns = "at, user_id, agency_id, action, purpose, purpose_text, object_type, object_id, summary, disclosed_to, mac, key_id, prev_hash, hash"  # fmt: skip
    sql(f"INSERT INTO compliance_accesslogentry ({columns}) SELECT {columns} FROM compliance_accesslogentry WHERE id = %s", [first.pk])  # fmt: skip
    report = verify_chain(AccessLogEntry)
    assert not report.ok and report.first_broken_seq == 2 and "changed" in report.reason


def test_a_forged_anchor_line_is_found(world, customs_analyst):
    log(world, customs_analyst, 2)
    assert verify_chain(AccessLogEntry).ok
    with anchors.anchor_path(LABEL).open("a") as handle:
        handle.write('{"chain":"compliance.accesslogentry","kind":"checkpoint","seq":1,"hash":"x","at":"2026-01-01T00:00:00+00:00","key":"1","mac":"00"}\n')  # fmt: skip
    report = verify_chain(AccessLogEntry)
    assert not report.ok and "anchor file" in report.reason


def test_a_rotated_key_still_verifies_the_rows_it_keyed(world, customs_analyst, settings):
    settings.RATC_CHAIN_KEY, settings.RATC_CHAIN_KEY_ID = "first-key-" + "a" * 40, "k1"
    log(world, customs_analyst, 2)
    assert verify_chain(AccessLogEntry).ok
    settings.RATC_CHAIN_RETIRED_KEYS = ["k1:first-key-" + "a" * 40]
    settings.RATC_CHAIN_KEY, settings.RATC_CHAIN_KEY_ID = "second-key-" + "b" * 40, "k2"
    log(world, customs_analyst, 2)
    assert verify_chain(AccessLogEntry).ok
    assert [r["key_id"] for r in rows()] == ["k1", "k1", "k2", "k2"]
    settings.RATC_CHAIN_RETIRED_KEYS = []  # the old key lost: its rows can no longer be vouched for
    assert not verify_chain(AccessLogEntry).ok


def test_production_refuses_to_start_without_a_chain_key(tmp_path):
    from tests.test_settings import _run_manage

    result = _run_manage(
        "check", DJANGO_ENV="production", SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        DJANGO_SECRET_KEY="k9!" + "x7Lq2vZ0pR4sT8wY1bN6cM3dF5gH9jK2lA0qW4eR7tY1uI3oP6",
        DJANGO_ALLOWED_HOSTS="ratc.example.gov",
    )  # fmt: skip
    assert result.returncode != 0 and "RATC_CHAIN_KEY must be set in production" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_appends_in_concurrent_transactions_do_not_wait_for_each_other(world, customs_analyst):
    """One writer keeps its transaction open; another appends and commits meanwhile (PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every writer by design; the floor runs on PostgreSQL")
    first_appended, second_done = threading.Event(), threading.Event()
    timings: dict[str, float] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                log(world, customs_analyst, 1)
                first_appended.set()
                # Held open until the other writer is done (or gives up): before, it waited here.
                timings["second_finished_while_first_open"] = second_done.wait(timeout=5)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_appended.wait(timeout=5)
            started = time.perf_counter()
            with transaction.atomic():
                log(world, customs_analyst, 1)
            timings["second_s"] = time.perf_counter() - started
            second_done.set()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    assert timings["second_finished_while_first_open"] and timings["second_s"] < 2
    report = verify_chain(AccessLogEntry)
    assert report.ok and report.rows == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the key from the sequence is PostgreSQL's")
def test_an_entry_is_written_keyed_in_one_insert_and_verifies(world, customs_analyst):
    """On PostgreSQL the key comes from the sequence first: one INSERT with its HMAC, no UPDATE after."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        (entry,) = log(world, customs_analyst, 1)
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "compliance_accesslogentry"')
    stored = AccessLogEntry.objects.get(pk=entry.pk)
    key = anchors.chain_keys()[stored.key_id]
    assert stored.mac == entry.mac == stored.compute_mac(key)
    log(world, customs_analyst, 2)
    report = verify_chain(AccessLogEntry)
    assert report.ok and report.rows == 3
