"""Python's cyclic garbage collector held off while a bulk path builds a batch (``collector_paused``).

Free of Django, so that the bulk paths that run without it (watchlist screening of a CSV file) can use
it too.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off for the block, and restored as it was after.

    A batch allocates hundreds of thousands of containers that all stay alive until it ends (an
    intake's records, drafts, rows and JSON; a bulk screening's queries, name groups and results): each
    few hundred allocations start a collection, and the oldest generation's collections walk every live
    object again (the parsed file, the batch, Django's own). They find nothing to free (the batch holds
    no cycles that outlive it; reference counting frees the rest as usual), and were a quarter of the CPU
    time of a 50,000-declaration intake and about a seventh of a bulk screening of 500,000 travellers.
    The young generations are collected once as the block ends, so whatever cycle the block left is
    freed then: memory stays flat from one batch to the next.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            # One collection of the young generations now, as the many during the block would have
            # done: the cycles the block made (pandas frames, Django's querysets) are freed here rather
            # than in a full collection that a process allocating little between blocks seldom reaches.
            # Its survivors go to the oldest generation, collected as Python usually does.
            gc.collect(1)
