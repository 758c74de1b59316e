"""Where uploaded intake files wait for their Celery task: outside the database, under MEDIA_ROOT."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def spool(run_id: int, name: str, chunks) -> str:
    """Write an upload to the intake spool and return its path (name kept after a random prefix)."""
    folder = Path(settings.MEDIA_ROOT) / "intake-spool" / str(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)[:120] or "upload"
    path = folder / f"{secrets.token_hex(4)}__{safe}"
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return str(path)
