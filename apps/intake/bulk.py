"""Bulk inserts that use the database's bulk path: COPY on PostgreSQL, multi-row INSERT elsewhere.

``bulk_insert_rows(Model, rows)`` takes plain dicts keyed by attribute name (``source_id``, not
``source``) and returns the new primary keys in order, so that rows which refer to them (links, keys,
outcomes) can be inserted next. On PostgreSQL the keys are drawn from the table's sequence first and the
rows go in with one COPY; no model instance is built, which is most of the cost of an ORM insert.

``keep_statistics_current(*models)`` re-analyses tables that a bulk load has doubled since their last
ANALYZE, so that the planner keeps choosing index lookups as they grow.

``reads_beside()`` gives a bulk load's storing transaction a second connection for reads that need not
wait in line with its writes (``read_beside``).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from operator import is_, itemgetter
from typing import Any, NamedTuple, Protocol, TypeVar

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models
from django.utils import timezone

log = logging.getLogger(__name__)


def bulk_insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, batch_size: int = 2000
) -> list[int]:
    if not rows:
        return []
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    now = timezone.now()
    defaults = {
        f.attname: (
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        )
        for f in fields
    }
    if connection.vendor != "postgresql":
        objs = [model(**(defaults | {k: plain_value(v) for k, v in row.items()})) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=batch_size)  # ``objects``: the only manager
        return [obj.pk for obj in objs]
    # (attribute, formatter straight to COPY text, default) per column.
    columns_out = [(f.attname, _formatter(f), defaults[f.attname]) for f in fields]
    with connection.cursor() as cursor:
        # The sequence's name first, once: ``nextval(pg_get_serial_sequence(...))`` looked the table up
        # in the catalogue again for every row (7 µs of the database's time a row, the most of drawing a
        # key), where a constant sequence is resolved once when the statement is planned.
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, pk.column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
        ids = [ident for (ident,) in cursor.fetchall()]
        names: list[str] = []
        for field in [pk, *fields]:
            assert field.column is not None  # a concrete field has a column
            names.append(field.column)
        columns = ", ".join(connection.ops.quote_name(c) for c in names)
        statement = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            # Rows go in COPY's text format, formatted here a column at a time (one formatter over a
            # column's values, no per-row list) and written a few thousand lines at a time: psycopg's
            # per-row adaptation was a third of the time of a bulk intake.
            for start in range(0, len(rows), COPY_CHUNK):
                part = rows[start : start + COPY_CHUNK]
                columns_text = [[str(ident) for ident in ids[start : start + COPY_CHUNK]]]
                for name, fmt, default in columns_out:
                    columns_text.append([fmt(row.get(name, default)) for row in part])
                copy.write("\n".join(map("\t".join, zip(*columns_text, strict=True))) + "\n")
    return ids


# Below this many changed rows a table is never re-analysed here: the planner's guesses are harmless.
ANALYZE_MIN_CHANGES = 1000


def keep_statistics_current(*models_: type[models.Model]) -> list[str]:
    """ANALYZE each table whose rows changed since its last ANALYZE outnumber its rows then; inside
    ``statistics_kept_aside``, handed to its thread instead (returns ``[]`` then: not done yet).
    """
    keeper = _KEEPER.get()
    if keeper is not None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        keeper.request(models_)
        return []
    return analyse_stale_tables(*models_)


def analyse_stale_tables(*models_: type[models.Model]) -> list[str]:
    """ANALYZE each table whose rows changed since its last ANALYZE outnumber its rows then.

    The planner costs queries from these statistics. A table that has never been analysed (a fresh
    database, or one where autovacuum is off) looks almost empty to it, so the per-batch lookups of a
    bulk load (``key IN (...)``, ``external_id IN (...)``) turned into sequential scans and hash joins
    whose cost grew with the table: a million-traveller intake slowed fourfold. Re-analysing whenever a
    table has doubled keeps the lookups on their indexes at a cost of about log2(rows) ANALYZEs of
    30,000 sampled rows each. The change counts come from the statistics views, so they include other
    processes' loads and see (within a second) this process's committed batches; with autovacuum on they
    are usually reset before reaching the threshold and this does nothing. Returns the tables analysed.
    """
    if connection.vendor != "postgresql" or not models_:
        return []
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.relname = ANY(%s) AND s.n_mod_since_analyze >= GREATEST(%s, c.reltuples)",
            [tables, ANALYZE_MIN_CHANGES],
        )
        stale = [name for (name,) in cursor.fetchall()]
        for name in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    return stale


class _StatisticsKeeper:
    """A thread with a database connection of its own that runs ``analyse_stale_tables`` when asked.

    A bulk intake's ANALYZEs (and the statistics query before each) were a ninth of its storing chain:
    the storing process waited while its backend sampled 30,000 rows, and nothing else could happen on
    that chain meanwhile. On a connection of its own the re-analysis runs beside the next batch, on the
    other core. Requests that arrive while it works are merged into one pass (each pass reads the
    change counts afresh, so a merged request loses nothing). It sees committed rows only, which is all
    the old call after the commit saw too.
    """

    def __init__(self) -> None:
        self._asked: queue.SimpleQueue[tuple[type[models.Model], ...] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="statistics-keeper", daemon=True)
        self._thread.start()

    def request(self, models_: tuple[type[models.Model], ...]) -> None:
        self._asked.put(models_)

    def close(self) -> None:
        """Finish what was asked (so a run ends with its statistics current), then stop."""
        self._asked.put(None)
        self._thread.join()

    def _run(self) -> None:
        from django.db import connection as own  # this thread's connection, not the caller's

        try:
            stopping = False
            while not stopping:
                wanted: dict[type[models.Model], None] = {}
                asked = self._asked.get()
                while True:  # everything asked meanwhile, in one pass
                    if asked is None:
                        stopping = True
                    else:
                        wanted.update(dict.fromkeys(asked))
                    try:
                        asked = self._asked.get_nowait()
                    except queue.Empty:
                        break
                if wanted:
                    try:
                        analyse_stale_tables(*wanted)
                    except DatabaseError:
                        # Statistics only guide the planner: the intake itself is not at fault, and its
                        # own connection reports a database that went away.
                        log.warning(
                            "re-analysing %s failed", ", ".join(m.__name__ for m in wanted), exc_info=True
                        )
        finally:
            own.close()


_KEEPER: ContextVar[_StatisticsKeeper | None] = ContextVar("statistics_keeper", default=None)


@contextmanager
def statistics_kept_aside() -> Iterator[None]:
    """Inside this block ``keep_statistics_current`` called outside a transaction (PostgreSQL) hands its
    work to a thread of its own; leaving the block waits for it to finish and closes its connection.

    For a run of many batches (``apps.intake.services.run_intake``): each batch re-analysed after its
    commit on the storing connection, which waited for it.
    """
    with _helper_beside(_KEEPER, _StatisticsKeeper):
        yield


class _Helper(Protocol):
    def close(self) -> None: ...


H = TypeVar("H", bound=_Helper)


@contextmanager
def _helper_beside(var: ContextVar[H | None], start: Callable[[], H]) -> Iterator[None]:
    """Inside the block (PostgreSQL), ``var`` holds a helper with a connection of its own, started here
    and closed on leaving; a block inside another keeps the outer one's."""
    if connection.vendor != "postgresql" or var.get() is not None:
        yield
        return
    helper = start()
    token = var.set(helper)
    try:
        yield
    finally:
        var.reset(token)
        helper.close()


T = TypeVar("T")


class BesideReader:
    """A thread with a database connection of its own that runs reads handed to it, one at a time.

    The storing transaction of a bulk load is one chain: its process waits for each statement, and its
    backend waits for the process. A read that depends only on what was committed before the batch
    (the same-person look-up, a fifth of a batch's time at a million travellers) can run on another
    backend, on the other core, while the chain writes the batch; the chain takes its answer when it
    needs it. It cannot see the transaction's own writes: only reads that would not see them anyway
    belong here.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-reads")

    def read(self, fn: Callable[[], T]) -> Callable[[], T]:
        """Start ``fn`` on this reader's connection; the callable returned waits for its answer (and
        raises what it raised)."""
        return self._pool.submit(self._run, fn).result

    @staticmethod
    def _run(fn: Callable[[], T]) -> T:
        from django.db import connection as own  # the thread's connection, not the caller's

        try:
            return fn()
        finally:
            # With DEBUG on, Django keeps a connection's last 9,000 statements; each look-up's array of
            # keys runs to tens of kilobytes, and nothing else clears this thread's log (the run clears
            # its own after each file): a million-traveller run grew by 80 MiB.
            own.queries_log.clear()

    def close(self) -> None:
        def close_own() -> None:
            from django.db import connection as own  # the thread's connection, not the caller's

            own.close()

        try:
            self._pool.submit(close_own).result()
        finally:
            self._pool.shutdown()


_READER: ContextVar[BesideReader | None] = ContextVar("beside_reader", default=None)


@contextmanager
def reads_beside() -> Iterator[None]:
    """Inside this block (PostgreSQL) ``read_beside`` outside an outer transaction runs its reads on a
    connection of their own; leaving it closes that connection. For a run of many batches
    (``apps.intake.services.run_intake``)."""
    with _helper_beside(_READER, BesideReader):
        yield


def read_beside(fn: Callable[[], T], *, in_outer_transaction: bool) -> Callable[[], T]:
    """Start a read of what was committed before the caller's transaction began writing; the callable
    returned gives its answer.

    Beside the caller (``reads_beside``) when there is a reader and the caller's transaction is its
    own: a transaction inside another one (a test's, an outer ``atomic``) may depend on rows nothing
    else can see yet, so there the read runs here, at once, before the caller writes, and sees the
    same.
    """
    reader = _READER.get()
    if reader is None or in_outer_transaction:
        answer = fn()
        return lambda: answer
    return reader.read(fn)


#: Rows a COPY is sent in (each part formatted, then written). Small enough that the server takes in one
#: part (indexes, constraints) while the next is formatted here: a batch's thousand subjects in one part
#: left the server idle while they were formatted and this process idle while they were inserted.
COPY_CHUNK = 200

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(text: str) -> str:
    # ``translate`` looks every character up in a dict; four ``in`` scans (C loops) tell first whether
    # there is anything to escape at all, and there seldom is.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def copy_text(text: str) -> str:
    """A string in PostgreSQL's COPY text format (for a caller writing its own COPY)."""
    return _escaped(text)


def _text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format: NULL marked, backslash, tab and newlines escaped."""
    if type(value) is str:  # the commonest, tested first
        return _escaped(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        return _escaped(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _escaped(str(value))


#: One encoder for every value: ``json.dumps(cls=...)`` builds a new one per call, and a bulk load
#: writes two JSON columns a row.
_JSON = DjangoJSONEncoder(separators=(",", ":"))
#: orjson writes what Django's encoder writes, its dates and times included (handed to the same
#: ``default``); dataclasses, which Django's encoder refuses, are refused here too.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_text(value: Any) -> str:
    """``value`` as compact JSON text, as ``DjangoJSONEncoder`` writes it (non-ASCII characters as they are).

    orjson does in C what the standard encoder does in Python: a traveller's two documents took 11 µs,
    a seventh of the parsing process's time in a bulk intake. What orjson refuses (an integer past 64
    bits) the standard encoder writes, or refuses as it always did.
    """
    try:
        return orjson.dumps(value, default=_JSON.default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _JSON.encode(value)


class Encoded(NamedTuple):
    """A JSON column's value with its COPY text made beforehand (elsewhere: the parsing process), which
    ``bulk_insert_rows`` writes as it is on PostgreSQL; elsewhere it stores the value (``plain_value``).
    ``value`` is None when only the text was kept: the value is then read back from it, where needed."""

    value: Any
    text: str


def json_copy_text(value: Any) -> str:
    """A JSON column's value in COPY text, as ``bulk_insert_rows`` writes it (for ``Encoded``)."""
    return _json_text(value)


def plain_value(value: Any) -> Any:
    """A value as stored, whether or not its COPY text was made beforehand (``Encoded``)."""
    if type(value) is not Encoded:
        return value
    if value.value is not None:
        return value.value
    return _from_json_text(value.text)


def _from_json_text(text: str) -> Any:
    """The value of a JSON column's COPY text (``_json_text``'s inverse): NULL, or JSON with each
    backslash doubled."""
    if text == "\\N":
        return None
    # The standard decoder: it reads back whatever ``json_text`` may have written (integers past 64
    # bits, which orjson refuses, go through the standard encoder there).
    return json.loads(text.replace("\\\\", "\\") if "\\" in text else text)


#: Each object's keys (as a tuple, in the order given) → the same keys in jsonb's order, a getter of their
#: values in that order, and whether the order given is jsonb's already; an intake's records have a
#: handful of shapes, so each is sorted once.
_JSONB_ORDER: dict[tuple[Any, ...], tuple[tuple[Any, ...], Callable[[dict], tuple[Any, ...]], bool]] = {}
#: The types of an object's values (in jsonb's order) → where among them the objects and arrays are.
_NESTED_AT: dict[tuple[type, ...], tuple[int, ...]] = {}
_NESTED = frozenset({dict, list})


def jsonb_key(key: str) -> tuple[int, str]:
    """Where ``jsonb`` keeps an object's key: shorter keys first, then by their bytes."""
    return len(key.encode()), key  # code point order is UTF-8 byte order


def _jsonb_shape(
    shape: tuple[Any, ...],
) -> tuple[tuple[Any, ...], Callable[[dict], tuple[Any, ...]], bool]:
    if len(_JSONB_ORDER) > 10_000:  # records of free-form keys: do not keep every shape seen
        _JSONB_ORDER.clear()
    # Keys that are not text (``json`` writes them as text) are left in their order: jsonb sorts anyway.
    order = tuple(sorted(shape, key=jsonb_key)) if all(type(k) is str for k in shape) else shape
    getter = itemgetter(*order) if len(order) > 1 else lambda d: tuple(d[k] for k in order)
    plan = _JSONB_ORDER[shape] = (order, getter, order == shape)
    return plan


def _nested_at(types: tuple[type, ...]) -> tuple[int, ...]:
    if len(_NESTED_AT) > 10_000:
        _NESTED_AT.clear()
    where = _NESTED_AT[types] = tuple(i for i, kind in enumerate(types) if kind in _NESTED)
    return where


def jsonb_ordered(value: Any) -> Any:
    """The same JSON value with every object's keys in the order PostgreSQL stores them in ``jsonb``:
    shorter keys first, then by their bytes (``jsonb_key``); ``value`` itself where they are already.

    ``jsonb`` sorts each object's keys on input, and its sort first checks whether they are sorted
    already: given in its own order, a subject's ``facts`` and ``details`` went in with two fifths less
    of the server's time (COPY of 50,000 travellers' documents: 867 ms with their keys shuffled, 543 ms
    in jsonb's order). The value stored is the same either way. Written for speed, since it runs on
    every record of a bulk intake (about 10 µs a traveller): the values are taken, and their objects
    and arrays found, by C loops (``itemgetter``, ``map``) and plans kept per shape; an object or array
    already in order (records' dataclasses are made so: ``normalise.drafts.jsonable``) is not copied.
    """
    kind = type(value)
    if kind is dict:
        shape = tuple(value)
        order, getter, in_order = _JSONB_ORDER.get(shape) or _jsonb_shape(shape)
        values: Sequence[Any] = getter(value)
        types = tuple(map(type, values))
        where = _NESTED_AT.get(types)
        if where is None:
            where = _nested_at(types)
        if where:
            walked = list(values)
            for i in where:
                item = walked[i]
                walked[i] = ordered = jsonb_ordered(item)
                in_order = in_order and ordered is item
            values = walked
        if in_order:
            return value
        return dict(zip(order, values, strict=False))  # of one length: both from ``shape``
    if kind is list and not _NESTED.isdisjoint(map(type, value)):
        walked = [jsonb_ordered(item) for item in value]
        return value if all(map(is_, walked, value)) else walked
    return value


def _json_text(value: Any) -> str:
    if type(value) is Encoded:  # made beforehand: already this function's result
        return value.text
    if value is None:
        return "\\N"
    text = json_text(jsonb_ordered(value))
    # JSON text holds no raw tab, newline or carriage return (the encoder writes them as escapes, and
    # no indentation): only its backslashes need doubling for COPY.
    return text.replace("\\", "\\\\") if "\\" in text else text


def _formatter(field: models.Field) -> Callable[[Any], str]:
    """How a field's Python value goes into COPY text: JSON as its text, everything else by ``_text``."""
    if isinstance(field, models.JSONField):
        return _json_text
    return _text
