"""Checking a photo from the tablet by its content: the name and the declared type are not trusted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_PHOTO_PIXELS = 50_000_000
MAX_PHOTOS = 10
#: Magic bytes of the image types a tablet camera produces, and the Pillow format each must decode as.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "JPEG", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "PNG", "image/png"),
    (b"RIFF", "WEBP", "image/webp"),
)


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    upload: UploadedFile
    content_type: str
    sha256: str
    size: int
    width: int
    height: int


def check_photo(upload: UploadedFile) -> CheckedPhoto:
    """Refuse a file that is empty, too large, or not really a JPEG, PNG or WebP image; else describe it."""
    name = upload.name or "photo"
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"photos": f"{name} is empty."})
    if size > MAX_PHOTO_BYTES:
        raise ValidationError(
            {
                "photos": f"{name} is {size / 1_048_576:.1f} MB; a photo may be at most {MAX_PHOTO_BYTES // 1_048_576} MB."
            }
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    match = next((s for s in SIGNATURES if head.startswith(s[0])), None)
    if match is None or (match[1] == "WEBP" and head[8:12] != b"WEBP"):
        raise ValidationError({"photos": f"{name} is not a photo (JPEG, PNG or WebP)."})
    _, expected_format, content_type = match
    try:
        with Image.open(upload) as image:
            if image.format != expected_format:
                raise ValidationError({"photos": f"{name} is not a valid {expected_format} image."})
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise ValidationError({"photos": f"{name} is {width} x {height} pixels: too large."})
            image.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"photos": f"{name} is damaged or not an image."}) from None
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedPhoto(upload, content_type, digest.hexdigest(), size, width, height)
