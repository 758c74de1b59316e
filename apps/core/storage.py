"""Where everything uploaded or attached is kept: the "uploads" storage, one for every host.

Intake and watchlist uploads wait here for their Celery task; comment attachments, examination photos
and trained risk models stay here. Every reader and writer goes through :func:`uploads` (Django's
storage API), never through a path, so that the deployment decides where the bytes live
(``RATC_UPLOADS``, read in ``ratc_ops/settings.py``):

- ``filesystem`` (the embedded mode's default): files under ``MEDIA_ROOT``, as a laptop has one host;
- ``database`` (the default beside a ``DATABASE_URL``): :class:`DatabaseStorage`, the files in
  PostgreSQL, in chunks. A worker on another machine reads an upload the web process wrote with nothing
  but the database every process already shares, and a file written inside a transaction that rolls
  back is gone with it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.utils.deconstruct import deconstructible

__all__ = ["CHUNK_BYTES", "DatabaseStorage", "keep", "safe_name", "uploads"]

#: The size of one stored chunk: large enough that a 200 MB upload is 200 rows, small enough that
#: neither the writer nor a reader ever holds more than this of a file at once.
CHUNK_BYTES = 1024 * 1024


def uploads() -> Storage:
    """The "uploads" storage (``settings.STORAGES``); the ``storage`` of every ``FileField`` too."""
    return storages["uploads"]


def keep(name: str, chunks: Iterable[bytes]) -> str:
    """Write an upload's chunks (streamed, never whole in memory) to the uploads storage as ``name``
    (or a free name like it); returns the name kept."""
    # Storage.save reads any content with chunks() (it wraps only other content in a File); the stubs
    # ask for an IO.
    return uploads().save(name, _Chunks(chunks))  # type: ignore[arg-type]


def safe_name(name: str) -> str:
    """An uploader's file name fit to be part of a stored name: its last part, plain characters only."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:120] or "upload"


class _Chunks:
    """Byte chunks as the content ``Storage.save`` reads (its ``chunks()``), streamed once."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.source = iter(chunks)
        self.name = None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield from self.source


@deconstructible(path="apps.core.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    """Files as rows: a :class:`~apps.core.models.StoredFile` and its ``CHUNK_BYTES`` chunks.

    Written in one (nested) transaction, read a chunk per query. Files are private: there is no URL;
    views stream them through the scoping of the object they belong to.
    """

    def _save(self, name: str, content: Any) -> str:
        from apps.core.models import StoredChunk, StoredFile

        for _attempt in range(3):
            try:
                with transaction.atomic():
                    row = StoredFile.objects.create(name=name)
                    size = 0
                    for index, piece in enumerate(_pieces(content)):
                        StoredChunk.objects.create(file=row, index=index, data=piece)
                        size += len(piece)
                    StoredFile.objects.filter(pk=row.pk).update(size=size)
                return name
            except IntegrityError:
                # Another writer took the name between ``get_available_name`` and here.
                name = self.get_available_name(name)
                if hasattr(content, "seek"):
                    content.seek(0)
        raise IntegrityError(f"no free name for {name!r}")

    def _open(self, name: str, mode: str = "rb") -> File:
        from apps.core.models import StoredFile

        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("stored files are written with save(), not opened for writing")
        row = StoredFile.objects.filter(name=name).values_list("pk", "size").first()
        if row is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        return _StoredFile(*row, name=name)

    def delete(self, name: str) -> None:
        from apps.core.models import StoredFile

        StoredFile.objects.filter(name=name).delete()

    def exists(self, name: str) -> bool:
        from apps.core.models import StoredFile

        return StoredFile.objects.filter(name=name).exists()

    def size(self, name: str) -> int:
        from apps.core.models import StoredFile

        row = StoredFile.objects.filter(name=name).values_list("size", flat=True).first()
        if row is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        return row

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        from apps.core.models import StoredFile

        prefix = f"{path.rstrip('/')}/" if path.strip("/") else ""
        folders: set[str] = set()
        files: list[str] = []
        for name in StoredFile.objects.filter(name__startswith=prefix).values_list("name", flat=True):
            rest = name[len(prefix) :]
            if "/" in rest:
                folders.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(folders), sorted(files)

    def get_created_time(self, name: str):
        from apps.core.models import StoredFile

        row = StoredFile.objects.filter(name=name).values_list("created_at", flat=True).first()
        if row is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        return row

    get_modified_time = get_created_time

    def url(self, name: str | None) -> str:
        raise NotImplementedError("stored files have no public URL: serve them through their object's view")


class _StoredFile(File):
    """A stored file, open for reading; reopened (``FieldFile.open()`` after a close) from its rows."""

    def __init__(self, pk: int, size: int, *, name: str) -> None:
        self.pk, self.length = pk, size
        super().__init__(self._reader(), name=name)
        self.size = size
        self.mode = "rb"

    def _reader(self) -> io.BufferedReader:
        return io.BufferedReader(_ChunkReader(self.pk, self.length), buffer_size=CHUNK_BYTES)

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> _StoredFile:
        if self.closed:
            self.file = self._reader()
        else:
            self.seek(0)
        return self


def _pieces(content: Any):
    """``content``'s bytes in pieces of exactly ``CHUNK_BYTES`` (the last one shorter)."""
    buffer = bytearray()
    chunks = content.chunks(CHUNK_BYTES) if hasattr(content, "chunks") else iter([content.read()])
    for chunk in chunks:
        buffer += chunk.encode() if isinstance(chunk, str) else chunk
        while len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES])
            del buffer[:CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


class _ChunkReader(io.RawIOBase):
    """A stored file read a chunk (one query) at a time, seekable, as ``FileResponse`` and parsers want."""

    def __init__(self, file_id: int, size: int) -> None:
        super().__init__()
        self.file_id = file_id
        self.length = size
        self.position = 0
        self.cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def _chunk(self, index: int) -> bytes:
        from apps.core.models import StoredChunk

        if self.cached is None or self.cached[0] != index:
            data = (
                StoredChunk.objects.filter(file_id=self.file_id, index=index)
                .values_list("data", flat=True)
                .first()
            )
            if data is None:
                raise FileNotFoundError(f"stored file {self.file_id} has lost chunk {index}")
            self.cached = (index, bytes(data))
        return self.cached[1]

    def readinto(self, buffer: Any) -> int:
        if self.position >= self.length:
            return 0
        index, offset = divmod(self.position, CHUNK_BYTES)
        piece = self._chunk(index)[offset : offset + len(buffer)]
        buffer[: len(piece)] = piece
        self.position += len(piece)
        return len(piece)
