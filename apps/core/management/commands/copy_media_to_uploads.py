"""Bring files kept under ``MEDIA_ROOT`` by an earlier release into the uploads storage (``apps.core.storage``)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import models

from apps.core.storage import uploads


class Command(BaseCommand):
    help = (
        "Copy the files that photos, attachments and trained models name from MEDIA_ROOT into the uploads "
        "storage (RATC_UPLOADS), under the same names; run once on the host that has them after upgrading. "
        "Files already there are left alone, so it is safe to run again."
    )

    def handle(self, *args, **options) -> None:
        storage, media = uploads(), Path(settings.MEDIA_ROOT)
        copied = missing = 0
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.FileField):
                    continue
                names = model._base_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
                for name in names.iterator():
                    if storage.exists(name):
                        continue
                    local = media / name
                    if not local.is_file():
                        missing += 1
                        self.stderr.write(f"{model._meta.label}.{field.name}: {name} is not under MEDIA_ROOT")
                        continue
                    with local.open("rb") as handle:
                        kept = storage.save(name, File(handle, name=local.name))
                    if kept != name:  # cannot happen for a name not there; never leave a row pointing astray
                        storage.delete(kept)
                        raise RuntimeError(f"{name} was kept as {kept}")
                    copied += 1
        self.stdout.write(f"{copied} files copied into the uploads storage, {missing} not found")
