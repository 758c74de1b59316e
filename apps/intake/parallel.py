"""Parsing the next files while this one is stored: a run's two halves on two cores.

Storing a file is Python building rows and PostgreSQL taking them; parsing the next file needs neither
and used to wait for both. ``parsed_files`` parses in one process of its own (a spawned interpreter that
imports only the parsers, which are pure) up to ``AHEAD`` files in front of the one being stored, and
hands the results back in file order, exactly as parsing them in turn would. Memory stays bounded: at
most ``AHEAD`` files are read and parsed before they are stored.

The process normalises what it parsed too (each record's subject drafts, ``apps.intake.normalise``):
that is pure as well, a sixth of the storing process's time for API lists, and the drafts are what
storing reads (a message's ``drafts``; its ``records`` are then left behind), their ``facts`` and
``details`` as the COPY text storing writes (``SubjectDraft.leave_as_text``). It hashes keys with the
secret its parent hands it; its clock is the machine's, as the parent's is. A message whose records
fail to normalise there keeps its records and is normalised when stored, so that the failure comes
where and when it came before.

It only pays for a run of several files, and only where a child process may be started (not inside a
daemonic process, such as a Celery prefork worker, which may have no children): otherwise the files are
parsed here, one after the other, with the same results.

The process is spawned, never forked (a fork would share this process's database connections), so, as
with any use of ``multiprocessing``, a script that runs an intake must guard its entry point with
``if __name__ == "__main__":`` (``manage.py``, the Celery worker and the servers do); or set
``RATC_INTAKE_PARSE_PROCESS=0``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice

from django.conf import settings

from apps.core.collector import collector_paused
from apps.intake.bulk import json_copy_text
from apps.intake.normalise import SubjectDraft, drafts_for
from apps.intake.normalise.drafts import key_secret, use_key_secret
from apps.intake.parsers.base import ParseResult
from apps.intake.parsers.payload import parse_file

__all__ = ["parsed_files"]

#: Files parsed ahead of the one being stored (read, parsed and held in memory at most).
AHEAD = 2


def parsed_files(
    payloads: Iterable[tuple[str, bytes]], *, fmt: str, register: bool
) -> Iterator[tuple[str, ParseResult]]:
    """Each (name, bytes) payload's name and parse result, in order; parsed in a process of its own when
    there are more files than ``AHEAD`` and the settings allow it (``INTAKE_PARSE_PROCESS``)."""
    payloads = iter(payloads)
    first = list(islice(payloads, AHEAD + 1))
    if len(first) <= AHEAD or not _may_fork():
        for name, data in chain(first, payloads):  # read one at a time, never all at once
            yield name, _parse_here(name, data, fmt, register)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process holding database connections
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_start, initargs=(key_secret(),)
    )
    try:
        pending: deque[tuple[str, Future[ParseResult]]] = deque()
        source = chain(first, payloads)
        for name, data in islice(source, AHEAD + 1):
            pending.append((name, pool.submit(_parse_and_normalise, name, data, fmt, register)))
        while pending:
            name, future = pending.popleft()
            result = future.result()
            for next_name, data in islice(source, 1):
                pending.append((next_name, pool.submit(_parse_and_normalise, next_name, data, fmt, register)))
            yield name, result
    finally:
        # A run that stops early (a failed batch, the database gone) does not wait for files it will
        # not store to be parsed.
        pool.shutdown(wait=True, cancel_futures=True)


def _parse_here(name: str, data: bytes, fmt: str, register: bool) -> ParseResult:
    # The parser builds a record per message, all kept: the collector would walk them again and again
    # (see ``collector_paused``).
    with collector_paused():
        return parse_file(name, data, fmt, register)


def _may_fork() -> bool:
    return (
        bool(getattr(settings, "INTAKE_PARSE_PROCESS", False))
        and not multiprocessing.current_process().daemon
    )


def _start(secret: bytes) -> None:
    """The parsing process: no cyclic collection either (it only builds records it hands back), and the
    parent's key secret."""
    import gc

    gc.disable()
    use_key_secret(secret)


def _parse_and_normalise(name: str, data: bytes, fmt: str, register: bool) -> ParseResult:
    """A file parsed, and each message's records turned into subject drafts (in the parsing process)."""
    result = parse_file(name, data, fmt, register)
    for message in result.messages:
        try:
            drafts = [draft for record in message.records for draft in drafts_for(record)]
        except Exception:  # normalised again when stored, which raises there, as it did before
            drafts = None
        if drafts is not None:
            _encode_json(drafts)
            message.drafts = drafts
            message.records = []  # only the drafts cross back: storing reads nothing else of them
    return result


def _encode_json(drafts: list[SubjectDraft]) -> None:
    """Each draft's ``facts`` and ``details`` (and those of the subjects it links to) in COPY text, here,
    and only that text sent back (``SubjectDraft.leave_as_text``).

    Encoding them was the largest piece of Python on the storing process's chain (which, with its
    PostgreSQL backend, sets a bulk intake's pace), while this process waits for it with time to spare.
    A value that does not encode is left to the storing process, which fails on it there as it did.
    """
    for draft in drafts:
        for one in (draft, *(other for other, _, _ in draft.links)):
            if one.copy_json is None:
                with contextlib.suppress(TypeError, ValueError):
                    one.copy_json = (json_copy_text(one.facts), json_copy_text(one.details))
    for draft in drafts:  # after all are encoded: a draft is encoded once, whoever links to it
        for one in (draft, *(other for other, _, _ in draft.links)):
            one.leave_as_text()
