"""Photos are checked by content (not by name or declared type) and kept by SHA-256 in the uploads storage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import StoredFile
from apps.frontline import services
from apps.frontline.models import ExaminationResult
from apps.frontline.photos import MAX_PHOTO_BYTES, check_photo
from tests.frontline.conftest import jpeg_bytes, seizure

pytestmark = pytest.mark.django_db


def test_a_real_jpeg_is_stored_with_its_sha256(instruction, port_officer, jpeg):
    data = jpeg_bytes()
    upload = SimpleUploadedFile("IMG_0001.jpg", data, content_type="image/jpeg")
    result = services.record_examination(
        actor=port_officer, instruction=instruction, data=seizure(), photos=[upload]
    ).result
    photo = result.photos.get()
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height, photo.content_type) == (64, 48, "image/jpeg")
    with photo.file.open("rb") as stored:  # from the uploads storage, wherever it keeps files
        assert stored.read() == data
    assert photo.file.name.endswith(f"{photo.sha256}.jpg")


def test_a_text_file_renamed_jpg_is_refused(instruction, port_officer):
    fake = SimpleUploadedFile("seizure.jpg", b"this is not a photo at all\n" * 10, content_type="image/jpeg")
    with pytest.raises(ValidationError, match="not a photo"):
        services.record_examination(
            actor=port_officer, instruction=instruction, data=seizure(), photos=[fake]
        )
    assert not ExaminationResult.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert not StoredFile.objects.exists()


def test_a_jpeg_header_on_garbage_is_refused():
    fake = SimpleUploadedFile("x.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 500, content_type="image/jpeg")
    with pytest.raises(ValidationError, match="damaged or not an image"):
        check_photo(fake)


def test_a_too_large_photo_is_refused():
    big = SimpleUploadedFile("big.jpg", jpeg_bytes() + b"\x00" * MAX_PHOTO_BYTES, content_type="image/jpeg")
    with pytest.raises(ValidationError, match="at most 12 MB"):
        check_photo(big)


def test_the_declared_type_is_not_trusted():
    png_named_jpg = SimpleUploadedFile("photo.jpg", _png(), content_type="image/jpeg")
    assert check_photo(png_named_jpg).content_type == "image/png"


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        check_photo(SimpleUploadedFile("e.jpg", b"", content_type="image/jpeg"))


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buffer, "PNG")
    return buffer.getvalue()
