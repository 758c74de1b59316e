"""Files attached to a note: refused when too large or not what their declared type says (by content)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "text/plain": None,
    "text/csv": None,
}


def _check_attachment(upload: UploadedFile) -> tuple[str, str, int]:
    """Refuse an upload that is too large or not one of the allowed types (by content, not by name)."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"attachment": f"{upload.name} is empty."})
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"attachment": f"{upload.name} is larger than 10 MB."})
    head = upload.read(16)
    upload.seek(0)
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in ATTACHMENT_TYPES:
        raise ValidationError({"attachment": f"{upload.name}: only PDF, PNG, JPEG, text or CSV files."})
    magic = ATTACHMENT_TYPES[declared]
    if magic is not None and not head.startswith(magic):
        raise ValidationError({"attachment": f"{upload.name} is not really a {declared} file."})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        if magic is None and b"\x00" in chunk:
            raise ValidationError({"attachment": f"{upload.name} is not a text file."})
        digest.update(chunk)
    upload.seek(0)
    return declared, digest.hexdigest(), size
