"""What the chains trust outside the database: the HMAC key and the anchor file.

**Keys.** ``RATC_CHAIN_KEY`` (with its id ``RATC_CHAIN_KEY_ID``) keys every new row; retired keys stay
listed in ``RATC_CHAIN_RETIRED_KEYS`` (``id:secret`` pairs) so that the rows they keyed still verify.
Every row records the id of the key that keyed it, so a key is rotated by moving the old one to the
retired list and setting a new one. Without ``RATC_CHAIN_KEY`` (the embedded, demo and test modes) a
key is generated once into ``RATC_CHAIN_KEY_FILE`` (under ``var/``); production refuses to start
without one (``ratc_ops/settings.py``). A key is never stored in the database: whoever can write the
database cannot compute a valid row.

**Anchors.** Each chain's head (``seq``, chain HMAC) is appended now and then to a file outside the
database, one JSON line per anchor, each line HMAC'd with the current key. ``kind`` is ``head`` (written
by the seal at most every ``RATC_CHAIN_ANCHOR_SECONDS`` and by the beat task) or ``checkpoint`` (written
by a verification that found the chain intact up to ``seq``: the next incremental verification starts
there). A writer who steps the database's head back, or rewrites the chain, cannot step the file back.
Put ``RATC_CHAIN_ANCHOR_DIR`` on storage the database's users cannot write (another host, WORM).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.utils import timezone

#: How much of an anchor file's end is read per step when looking for its latest lines.
TAIL_BLOCK = 64 * 1024


# --- keys --------------------------------------------------------------------------------------------


@cache
def chain_keys() -> dict[str, bytes]:
    """Every key that may have keyed a row, by id (the current one included)."""
    current_id, current = _current()
    keys = {}
    for pair in getattr(settings, "RATC_CHAIN_RETIRED_KEYS", []):
        key_id, sep, secret = pair.partition(":")
        if not sep or not key_id.strip() or not secret:
            raise ImproperlyConfigured("RATC_CHAIN_RETIRED_KEYS takes id:secret pairs, comma-separated")
        keys[key_id.strip()] = secret.encode()
    keys[current_id] = current
    return keys


def current_key() -> tuple[str, bytes]:
    """The id and key that new rows and anchors are keyed with."""
    key_id = _current()[0]
    return key_id, chain_keys()[key_id]


@cache
def _current() -> tuple[str, bytes]:
    secret = getattr(settings, "RATC_CHAIN_KEY", "")
    if secret:
        return settings.RATC_CHAIN_KEY_ID, secret.encode()
    return _key_from_file(Path(settings.RATC_CHAIN_KEY_FILE))


def _key_from_file(path: Path) -> tuple[str, bytes]:
    """The key file: in the embedded mode generated once, then read. Several processes may start at
    once, so the file appears complete or not at all (written aside, then hard-linked into place)."""
    if not path.exists() and not settings.RATC_CHAIN_KEY_GENERATE:
        raise ImproperlyConfigured(f"RATC_CHAIN_KEY is not set and the key file {path} does not exist")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        aside.write_text(f"local-1 {secrets.token_hex(32)}\n")
        aside.chmod(0o600)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            aside.unlink()
    key_id, _, secret = path.read_text().strip().partition(" ")
    if not key_id or len(secret) < 32:
        raise ImproperlyConfigured(f"The chain key file {path.name} is damaged; restore it from backup.")
    return key_id, secret.encode()


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("RATC_CHAIN_"):
        chain_keys.cache_clear()
        _current.cache_clear()


def mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


# --- anchors -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    kind: str  # "head" or "checkpoint"
    seq: int
    hash: str
    at: datetime


@dataclass(frozen=True)
class Anchors:
    """The latest anchor and checkpoint of a chain, and how many lines near the end did not verify."""

    head: Anchor | None
    checkpoint: Anchor | None
    forged: int = 0

    @property
    def furthest(self) -> Anchor | None:
        """Whichever says the chain reached further: both are statements about its head."""
        found = [a for a in (self.head, self.checkpoint) if a is not None]
        return max(found, key=lambda a: a.seq) if found else None


def anchor_path(chain: str) -> Path:
    """One file per database and chain, so that test, bench and demo databases never mix anchors."""
    name = Path(str(connection.settings_dict["NAME"])).stem or "default"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{name}--{chain}")
    return Path(settings.RATC_CHAIN_ANCHOR_DIR) / f"{slug}.jsonl"


def write_anchor(chain: str, kind: str, seq: int, hash_: str) -> None:
    key_id, key = current_key()
    body = {"chain": chain, "kind": kind, "seq": seq, "hash": hash_, "at": timezone.now().isoformat()}
    body["key"] = key_id
    body["mac"] = mac(key, _canonical(body))
    path = anchor_path(chain)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(body, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # whole lines, even from several processes
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def latest_anchors(chain: str) -> Anchors:
    """Read the file backwards until a head anchor and a checkpoint are found (or its start is reached),
    so the cost does not grow with the file. Within the part read the highest ``seq`` of each kind wins:
    two processes may append their anchors out of order."""
    path = anchor_path(chain)
    if not path.exists():
        return Anchors(None, None)
    best: dict[str, Anchor] = {}
    forged = 0
    keys = chain_keys()
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        tail = b""
        while end > 0 and len(best) < 2:
            start = max(0, end - TAIL_BLOCK)
            handle.seek(start)
            tail = handle.read(end - start) + tail
            end = start
            # The first line may be cut by the block boundary: keep it for the next round.
            lines = tail.split(b"\n")
            tail, complete = (lines[0], lines[1:]) if start > 0 else (b"", lines)
            for raw in complete:
                if not raw.strip():
                    continue
                anchor = _parse(raw, chain, keys)
                if anchor is None:
                    forged += 1
                elif anchor.kind not in best or anchor.seq > best[anchor.kind].seq:
                    best[anchor.kind] = anchor
    return Anchors(best.get("head"), best.get("checkpoint"), forged)


def _parse(raw: bytes, chain: str, keys: dict[str, bytes]) -> Anchor | None:
    try:
        body = json.loads(raw)
        given = body.pop("mac")
        key = keys[body["key"]]
        if body["chain"] != chain or not hmac.compare_digest(given, mac(key, _canonical(body))):
            return None
        return Anchor(body["kind"], int(body["seq"]), body["hash"], datetime.fromisoformat(body["at"]))
    except (ValueError, KeyError, TypeError):
        return None


def _canonical(body: dict[str, object]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
