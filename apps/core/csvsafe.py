"""The one CSV writer: ``csv.writer``/``csv.DictWriter`` with every cell neutralised against formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken for a formula by
spreadsheets (CSV or formula injection, OWASP): a reason typed as ``=HYPERLINK("http://…","click")``
becomes a live link, or worse, on the analyst's machine. Such text is written with a leading ``'``, which
spreadsheets show as text. A plain number (``-12``, ``+3.5``, ``-1e3``) is left as it is, so negative
figures stay numbers: a number alone cannot call anything.

Use it exactly like the ``csv`` module::

    from apps.core import csvsafe

    writer = csvsafe.writer(response)  # or any file-like object with write()
    writer.writerow(["reference", "reason"])
    writer = csvsafe.DictWriter(handle, fieldnames=[...])
"""

from __future__ import annotations

import _csv
import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["FORMULA_PREFIXES", "DictWriter", "SafeWriter", "neutralise", "writer"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet evaluates: text that looks like a formula gets a ``'``.

    Numbers (and ``None``) are returned unchanged; anything else as the text ``csv`` would write.
    """
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = value if isinstance(value, str) else str(value)
    if text[:1] in FORMULA_PREFIXES and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` whose rows are neutralised first; ``writerow`` returns what ``csv`` returns (so a
    streaming response's echo buffer keeps working)."""

    def __init__(
        self,
        f: Any,
        dialect: str | _csv.Dialect | csv.Dialect | type[csv.Dialect] = "excel",
        **fmtparams: Any,
    ) -> None:
        self._writer = csv.writer(f, dialect, **fmtparams)

    @property
    def dialect(self) -> Any:
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f: Any, dialect: str | type[csv.Dialect] = "excel", **fmtparams: Any) -> SafeWriter:
    """The drop-in replacement of ``csv.writer``."""
    return SafeWriter(f, dialect, **fmtparams)


class DictWriter(csv.DictWriter):
    """The drop-in replacement of ``csv.DictWriter`` (header and values neutralised alike)."""

    def __init__(self, f: Any, fieldnames: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(f, fieldnames, *args, **kwargs)
        # typeshed types ``writer`` as csv's own class; DictWriter only calls its writerow(s), which ours has.
        self.writer = SafeWriter(f, self.writer.dialect)  # type: ignore[assignment]
