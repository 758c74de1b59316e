"""The uploads storage: every file uploaded or attached goes through it, the database storage keeps and
streams files in chunks, and a worker on another host reads an upload the web process kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection, models, transaction

from apps.core import storage as storage_module
from apps.core.models import StoredChunk, StoredFile
from apps.core.storage import DatabaseStorage, uploads
from apps.intake.models import IntakeRun, Message, SourceKind
from tests.factories import DataSourceFactory

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_field_keeps_its_files_in_the_uploads_storage():
    """Photos, attachments and trained models: a file one host writes is one every host reads."""
    fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith("apps.")
        for field in model._meta.get_fields()
        # Given as the callable, so that the field follows the setting (a storage instance would not).
        if isinstance(field, models.FileField) and field.deconstruct()[3].get("storage") is not uploads
    ]
    assert not fields, f"these keep files elsewhere than the uploads storage: {fields}"


@pytest.mark.django_db
def test_the_database_storage_keeps_a_file_in_chunks_and_streams_it_back(monkeypatch):
    monkeypatch.setattr(storage_module, "CHUNK_BYTES", 10)
    store = DatabaseStorage()
    content = bytes(range(256)) * 3 + b"end"

    name = store.save("intake/7/ab12cd34__list.csv", ContentFile(content))

    assert name == "intake/7/ab12cd34__list.csv" and store.exists(name) and store.size(name) == len(content)
    assert StoredChunk.objects.filter(file__name=name).count() == 78  # never more than a chunk a row
    with store.open(name) as handle:
        assert handle.read(25) == content[:25]
        handle.seek(500)
        assert handle.read() == content[500:]
    assert b"".join(store.open(name).chunks(chunk_size=7)) == content
    again = store.save(name, ContentFile(b"other"))  # a name taken is never overwritten
    assert again != name and store.open(again).read() == b"other"
    assert store.listdir("intake") == (["7"], []) and sorted(store.listdir("intake/7")[1]) == sorted(
        [Path(name).name, Path(again).name]
    )
    store.delete(name)
    assert not store.exists(name) and not StoredChunk.objects.filter(file__name=name).exists()
    with pytest.raises(FileNotFoundError):
        store.open(name)


@pytest.mark.django_db
def test_a_file_kept_in_a_transaction_that_rolls_back_is_gone_with_it():
    store = DatabaseStorage()
    with pytest.raises(RuntimeError), transaction.atomic():
        store.save("intake/8/upload.csv", ContentFile(b"a,b\n"))
        raise RuntimeError("the upload's run was not recorded")
    assert not StoredFile.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_another_host_ingests_what_the_web_process_kept(
    world, customs_analyst, django_capture_on_commit_callbacks, tmp_path, settings
):
    """The web process keeps the upload and queues the task; another process, with nothing of it on
    its disk (its own empty MEDIA_ROOT), runs the task through the storage."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the embedded mode (SQLite) is one host, with its files on disk")
    from tests.intake.test_exactly_once import csv, queue_upload, row

    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="Declarations")
    files = [("week.csv", [csv(row("94000001"), row("94000002"))])]
    settings.STORAGES = {**settings.STORAGES, "uploads": {"BACKEND": "apps.core.storage.DatabaseStorage"}}
    run, stored = queue_upload(customs_analyst, source, files, django_capture_on_commit_callbacks)
    assert StoredFile.objects.filter(name__in=stored).count() == 1

    db = settings.DATABASES["default"]
    environment = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "MEDIA_ROOT"}}
    environment.update(
        DJANGO_SETTINGS_MODULE="ratc_ops.settings",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
        RATC_UPLOADS="database",
        MEDIA_ROOT=str(tmp_path / "other-host-media"),
        RATC_CHAIN_ANCHOR_DIR=str(tmp_path / "anchors"),
        RATC_CHAIN_SEAL_IN_BACKGROUND="0",
    )
    code = (
        "import django; django.setup()\n"
        "from apps.intake.tasks import run_intake_task\n"
        f"run_intake_task({run.pk}, {stored!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr[-3000:]
    run.refresh_from_db()
    assert run.status == IntakeRun.Status.DONE and run.counts["messages"] == 2
    assert Message.objects.filter(source=source).count() == 2
    assert not StoredFile.objects.filter(name__in=stored).exists()  # removed after the run was recorded
    assert not (tmp_path / "other-host-media").exists() or not any((tmp_path / "other-host-media").rglob("*"))


@pytest.mark.django_db
def test_files_of_an_earlier_release_are_copied_into_the_uploads_storage(
    tmp_path, settings, world, customs_analyst
):
    """An upgrade brings the photos and attachments an earlier release kept under MEDIA_ROOT."""
    from django.core.management import call_command

    from tests.targeting.factories import TargetFactory

    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "uploads": {"BACKEND": "apps.core.storage.DatabaseStorage"}}
    from apps.targeting.models import Attachment, Comment

    target = TargetFactory(subject__source__owner_agency=world.customs)
    comment = Comment.objects.create(
        target=target, author=customs_analyst, owner_agency=world.customs, body="see the manifest"
    )
    (tmp_path / "targeting" / "2026" / "11").mkdir(parents=True)
    (tmp_path / "targeting" / "2026" / "11" / "manifest.pdf").write_bytes(b"%PDF-1.4 manifest")
    Attachment.objects.create(
        comment=comment, file="targeting/2026/11/manifest.pdf", name="manifest.pdf",
        content_type="application/pdf", size=17, sha256="0" * 64,
    )  # fmt: skip

    call_command("copy_media_to_uploads")
    call_command("copy_media_to_uploads")  # again: nothing twice

    assert StoredFile.objects.filter(name="targeting/2026/11/manifest.pdf").count() == 1
    assert uploads().open("targeting/2026/11/manifest.pdf").read() == b"%PDF-1.4 manifest"
