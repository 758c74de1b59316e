"""What every intake parser returns, and how it says that input is bad.

Parsers are pure: they take bytes or text and return plain dataclasses. They import nothing from Django,
so they can be tested, benchmarked and run in a worker without a database. Storing what they return is
the job of ``apps.intake.services``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Problem:
    """One reason why (part of) a file was refused, named precisely enough for a person to fix it.

    ``where`` is the most precise location the format has: a line and column, a segment tag and its
    position in the interchange, an XML path, a CSV line and column name.
    """

    file: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.reason}"


class ParseError(Exception):
    """Raised when a whole file (or message) cannot be used. Carries the problems found."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(slots=True)
class ParsedMessage:
    """One business message found in a file: a PAXLST message, one PNR, one declaration, one waybill.

    ``message_key`` identifies the message for idempotence (the same key and content twice is stored
    once); ``version_key`` orders versions of the same business object (a PNR update, a declaration
    amendment) and ``function`` says what the message does to it.
    """

    kind: str  # "paxlst", "pnrgov", "wco-dec", "xfwb", "xfzb", "declarations-csv", "json"
    message_key: str
    function: str = "original"  # "original" | "update" | "amendment" | "cancellation"
    version_key: str = ""
    records: list[Any] = field(default_factory=list)
    filtered_fields: int = 0  # sensitive fields dropped on intake (PNR SSR/OSI/remarks)
    warnings: list[Problem] = field(default_factory=list)
    # The records' subject drafts, when the parsing process normalised them already (``apps.intake.
    # parallel``); ``records`` is then emptied, so that only the drafts cross back. None: normalise
    # ``records`` when stored.
    drafts: list[Any] | None = None


@dataclass(slots=True)
class ParseResult:
    """What a parser made of one file: the messages it could read and the problems it found.

    A file can be partly good: a PNRGOV interchange with one broken PNR keeps the other PNRs, and the
    broken one is reported. A file whose envelope is unreadable has no messages and one problem.
    """

    file: str
    format: str
    messages: list[ParsedMessage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
