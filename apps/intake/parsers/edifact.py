"""A fast UN/EDIFACT tokenizer and envelope reader, shared by the PAXLST and PNRGOV parsers.

Two layers:

* :func:`tokenize` turns text into :class:`Segment` objects. It honours the UNA service string advice
  (any separators, any release character), and falls back to the level-A defaults ``:+.? '`` (or the
  level-B control characters when the UNB shows them). Each segment keeps its index and the line it
  starts on, so a problem can say where it is.
* :func:`read_interchanges` walks UNB/UNG/UNH..UNT/UNE/UNZ envelopes and returns :class:`Interchange`
  objects holding complete :class:`Message` objects, plus problems (a message or an interchange that
  cannot be used) and warnings (counts that do not add up, text after the trailer).

Speed comes from doing the work in C string methods: the text is cut with ``str.split`` on the segment
terminator, each segment on the element and component separators. Only a segment that contains the
release character takes a slower, regex-driven path.

Line breaks are not data in EDIFACT. Senders wrap long segments at a fixed width and put segments on
lines of their own, so CR and LF are removed wherever they occur (unless the UNA makes one of them a
separator), and whitespace between segments is skipped.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from .base import ParseResult, Problem

__all__ = [
    "DEFAULT_SEPARATORS",
    "Interchange",
    "Message",
    "Segment",
    "Separators",
    "decode",
    "interchange_version",
    "parse_dtm",
    "parse_edifact_datetime",
    "parse_messages",
    "read_interchanges",
    "resolve_year",
    "tokenize",
]


@dataclass(frozen=True, slots=True)
class Separators:
    """The service characters of an interchange (ISO 9735 UNA)."""

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"  # "" when the interchange has none
    terminator: str = "'"


DEFAULT_SEPARATORS = Separators()
# Syntax level B (UNOB) uses information separators instead of printable characters and has no release.
LEVEL_B_SEPARATORS = Separators(component="\x1f", element="\x1d", decimal=".", release="", terminator="\x1c")

_WHITESPACE = " \t\r\n\x0b\x0c"


class _Syntax:
    """What a segment needs to split itself later: its separators and the canonical translation."""

    __slots__ = ("component", "element", "table")

    def __init__(self, seps: Separators) -> None:
        self.element = seps.element
        self.component = seps.component
        # Canonical text uses the default "+" and ":", so the common case needs no translation.
        default = (seps.element, seps.component) == ("+", ":")
        self.table = None if default else str.maketrans({seps.element: "+", seps.component: ":"})


class Segment:
    """One segment: its tag, its data elements (each a list of components), and where it was found.

    ``index`` counts segments from 1 at the first segment after the UNA (normally the UNB); ``line`` is
    the 1-based line of the file on which the segment starts. Elements are split on first use: most
    segments of a PNR are never looked into, and not splitting them is most of the tokenizer's speed.
    """

    __slots__ = ("_elements", "_rest", "_syntax", "index", "line", "tag")

    def __init__(
        self,
        tag: str,
        elements: list[list[str]] | None,
        index: int,
        line: int,
        rest: str | None = None,
        syntax: _Syntax | None = None,
    ) -> None:
        self.tag = tag
        self._elements = elements
        self._rest = rest  # the unsplit text after the tag, when it holds no release character
        self._syntax = syntax
        self.index = index
        self.line = line

    @property
    def elements(self) -> list[list[str]]:
        elements = self._elements
        if elements is None:
            rest, syntax = self._rest, self._syntax
            if rest is None or syntax is None:
                elements = []
            else:
                component = syntax.component
                elements = [part.split(component) for part in rest.split(syntax.element)]
            self._elements = elements
        return elements

    def get(self, element: int, component: int = 0, default: str = "") -> str:
        """Return one component by position (0-based, not counting the tag), or ``default``."""
        elements = self._elements if self._elements is not None else self.elements
        if element < len(elements):
            components = elements[element]
            if component < len(components):
                return components[component]
        return default

    def element(self, element: int) -> list[str]:
        """Return the components of one element, or an empty list when it is absent."""
        elements = self.elements
        return elements[element] if element < len(elements) else []

    @property
    def well_formed(self) -> bool:
        """True when the tag is three ASCII letters or digits, as every EDIFACT tag is."""
        tag = self.tag
        return len(tag) == 3 and tag.isalnum() and tag.isascii()

    @property
    def where(self) -> str:
        tag = self.tag if self.well_formed else repr(self.tag[:12])
        return f"{tag} segment #{self.index} (line {self.line})"

    def canonical(self) -> str:
        """The segment in a separator-independent form, for content hashing: "+" between elements,
        ":" between components, release characters resolved. (A released "+" or ":" then reads like
        a separator; that can only make two different segments hash alike, never one segment hash
        two ways.)"""
        rest, syntax = self._rest, self._syntax
        if rest is not None and syntax is not None:
            table = syntax.table
            return self.tag + "+" + (rest if table is None else rest.translate(table))
        return "+".join([self.tag, *(":".join(e) for e in self.elements)])

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, index={self.index}, line={self.line})"


@dataclass(slots=True)
class Message:
    """One UNH..UNT message; ``body`` excludes the UNH and UNT segments themselves."""

    reference: str
    message_type: str
    version: list[str]
    header: Segment
    body: list[Segment] = field(default_factory=list)
    trailer: Segment | None = None
    group_reference: str = ""
    warnings: list[Problem] = field(default_factory=list)

    def content_hash(self) -> str:
        """SHA-256 over the body segments in canonical form: equal for equal content whatever the
        separators, line breaks or envelope numbers of the transmission."""
        return content_hash(self.body)

    @property
    def where(self) -> str:
        return f"message {self.reference!r} ({self.header.where})"


@dataclass(slots=True)
class Interchange:
    """One UNB..UNZ interchange: who sent it, when, and the complete messages found in it."""

    separators: Separators
    header: Segment
    syntax: str = ""
    sender: str = ""
    recipient: str = ""
    prepared: datetime | None = None
    control_reference: str = ""
    messages: list[Message] = field(default_factory=list)
    trailer: Segment | None = None
    warnings: list[Problem] = field(default_factory=list)


def content_hash(segments: list[Segment]) -> str:
    """SHA-256 (hex) of segments in canonical form."""
    text = "\x1c".join([segment.canonical() for segment in segments])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_CHARSETS = {"UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5", "UNOF": "iso8859-7"}


def decode(data: bytes | str) -> str:
    """Bytes to text: UTF-8 when it is valid (UNOA/UNOB are ASCII, UNOY is UTF-8), else the Latin
    character set the UNB names, else Latin-1, which can decode any byte."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    head = data[:200]
    for syntax, codec in _CHARSETS.items():
        if syntax.encode() in head:
            return data.decode(codec, errors="replace")
    return data.decode("latin-1")


def _read_una(text: str, start: int, file: str) -> tuple[Separators, int, Problem | None]:
    """Read the UNA at ``start``; return separators, where segments begin, and a problem if unusable."""
    advice = text[start + 3 : start + 9]
    where = "UNA service string advice (line 1)"
    if len(advice) < 6:
        return DEFAULT_SEPARATORS, len(text), Problem(file, where, "UNA is shorter than its 6 characters")
    component, element, decimal, release, _reserved, terminator = tuple(advice)
    # A space as release character means "none": no sender escapes data with a space.
    release = "" if release == " " else release
    structural = [component, element, terminator] + ([release] if release else [])
    if len(set(structural)) != len(structural):
        return (
            DEFAULT_SEPARATORS,
            len(text),
            Problem(file, where, f"UNA {advice!r} uses the same character for two separators"),
        )
    return Separators(component, element, decimal, release, terminator), start + 9, None


def _default_separators(text: str, start: int) -> Separators:
    """Without a UNA the syntax level decides; level B is recognised by its element separator."""
    if text.startswith("UNB\x1d", start):
        return LEVEL_B_SEPARATORS
    return DEFAULT_SEPARATORS


def _released_splitter(seps: Separators) -> re.Pattern[str]:
    rel, elem, comp = (re.escape(c) for c in (seps.release, seps.element, seps.component))
    return re.compile(f"({rel}.|{rel}$|{elem}|{comp})", re.DOTALL)


def _split_released(text: str, seps: Separators, splitter: re.Pattern[str]) -> list[list[str]]:
    """Split a segment that contains the release character: the slow, exact path."""
    rel, elem, comp = seps.release, seps.element, seps.component
    elements: list[list[str]] = []
    components: list[str] = []
    buffer: list[str] = []
    for token in splitter.split(text):
        if not token:
            continue
        if token == elem:
            components.append("".join(buffer))
            elements.append(components)
            components, buffer = [], []
        elif token == comp:
            components.append("".join(buffer))
            buffer = []
        elif token[0] == rel and len(token) == 2:
            buffer.append(token[1])
        elif token == rel:
            continue  # a dangling release character at the end releases nothing
        else:
            buffer.append(token)
    components.append("".join(buffer))
    elements.append(components)
    return elements


def _join_released_terminators(chunks: list[str], release: str, terminator: str) -> list[str]:
    """Re-join chunks whose terminator was released (an odd run of release characters before it).

    The release character is kept, so the segment splitter later turns "?'" into "'".
    """
    joined: list[str] = []
    pending = ""
    for chunk in chunks:
        if pending:
            chunk = pending + chunk
            pending = ""
        if chunk.endswith(release) and (len(chunk) - len(chunk.rstrip(release))) % 2:
            pending = chunk + terminator
            continue
        joined.append(chunk)
    if pending:
        joined.append(pending)
    return joined


def tokenize(data: bytes | str, *, file: str = "") -> tuple[Separators, list[Segment], list[Problem]]:
    """Split an interchange into segments.

    Returns the separators in force, the segments (empty ones skipped) and the problems of an unusable
    UNA. Segments with a malformed tag are returned as they are; the envelope reader judges them, since
    what they mean depends on where they are (inside a message, or junk after the trailer).
    """
    text = decode(data)
    problems: list[Problem] = []
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if text.startswith("UNA", start):
        seps, body_start, problem = _read_una(text, start, file)
        if problem:
            return seps, [], [problem]
    else:
        seps = _default_separators(text, start)
        body_start = start
    line = text.count("\n", 0, body_start) + 1

    term, elem, comp, rel = seps.terminator, seps.element, seps.component, seps.release
    separators = {term, elem, comp, rel}
    whitespace = "".join(c for c in _WHITESPACE if c not in separators)
    breaks = [c for c in "\r\n" if c not in separators]
    newline_is_terminator = term == "\n"

    chunks = text[body_start:].split(term)
    # Looked for in the segments only: the UNA itself names the release character, and finding it there
    # sent every interchange with a UNA down the slower paths below.
    has_release = bool(rel) and text.find(rel, body_start) != -1
    if has_release:
        chunks = _join_released_terminators(chunks, rel, term)
        splitter = _released_splitter(seps)

    syntax = _Syntax(seps)
    segments: list[Segment] = []
    append = segments.append
    index = 0
    for chunk in chunks:
        stripped = chunk.lstrip(whitespace)
        if not stripped:
            line += chunk.count("\n") + newline_is_terminator
            continue
        newlines = chunk.count("\n")
        if newlines:
            segment_line = line + chunk.count("\n", 0, len(chunk) - len(stripped))
            line += newlines
        else:
            segment_line = line
        line += newline_is_terminator
        if newlines or "\r" in stripped:
            for br in breaks:
                stripped = stripped.replace(br, "")
        index += 1
        if has_release and rel in stripped:
            elements = _split_released(stripped, seps, splitter)
            append(Segment(elements[0][0].strip(), elements[1:], index, segment_line))
        elif stripped[3:4] == elem:
            append(Segment(stripped[:3], None, index, segment_line, stripped[4:], syntax))
        elif len(stripped) == 3:
            append(Segment(stripped, [], index, segment_line))
        else:
            # A tag with stray spaces ("UNG +...") or no tag at all: split now and tidy the tag.
            parts = stripped.split(elem)
            elements = [p.split(comp) for p in parts[1:]]
            append(Segment(parts[0].split(comp)[0].strip(), elements, index, segment_line))
    return seps, segments, problems


def parse_edifact_datetime(date: str, time: str = "") -> datetime | None:
    """UNB/UNG date (YYMMDD or CCYYMMDD) and time (HHMM) to a naive datetime, or None if invalid."""
    try:
        if len(date) == 6:
            year, rest = 2000 + int(date[:2]), date[2:]
        elif len(date) == 8:
            year, rest = int(date[:4]), date[4:]
        else:
            return None
        hour, minute = (int(time[:2]), int(time[2:4])) if len(time) >= 4 else (0, 0)
        return datetime(year, int(rest[:2]), int(rest[2:4]), hour, minute)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def read_interchanges(data: bytes | str, *, file: str) -> tuple[list[Interchange], list[Problem]]:
    """Read every interchange in a file.

    Problems mean something could not be used: a file that does not start with UNB, a message without
    its UNT (dropped, the other messages are kept), a message with a malformed segment (dropped), a UNZ whose
    control reference is not a reference at all (the trailer is corrupt, e.g. text ran into it: the
    whole interchange is refused, since where it ends cannot be trusted), a missing UNZ (the complete
    messages are kept: the missing UNT already localises truncation).

    Warnings go on the messages or the interchange: wrong counts in UNT/UNE/UNZ, a UNT or UNZ
    reference that differs from its header (common in real traffic, so not a reason to refuse), text
    after the UNZ.
    """
    seps, segments, problems = tokenize(data, file=file)
    if problems and not segments:
        return [], problems
    interchanges: list[Interchange] = []
    if not segments:
        return [], [Problem(file, "start of file", "no EDIFACT segments found (empty file)")]
    if segments[0].tag != "UNB":
        first = segments[0]
        return [], [Problem(file, first.where, f"expected the UNB interchange header, found {first.tag!r}")]
    problems = []
    position = 0
    total = len(segments)
    services = [i for i, segment in enumerate(segments) if segment.tag in _SERVICE_TAGS]
    malformed = [i for i, segment in enumerate(segments) if not segment.well_formed]
    while position < total:
        segment = segments[position]
        if segment.tag != "UNB":
            extra = total - position
            target = interchanges[-1].warnings if interchanges else problems
            target.append(Problem(file, segment.where, f"{extra} segment(s) after the UNZ trailer ignored"))
            break
        interchange, position = _read_interchange(
            segments, services, malformed, position, seps, file, problems
        )
        if interchange is not None:
            interchanges.append(interchange)
    return interchanges, problems


def parse_messages(
    data: bytes | str,
    *,
    file: str,
    format: str,
    message_type: str,
    parse: Callable[[Interchange, Message, ParseResult], None],
) -> ParseResult:
    """The loop every EDIFACT format runs over an upload, written once; never raises.

    Reads the interchanges, reports a message of another type and skips it, and hands each message of
    ``message_type`` to ``parse``, which adds what it read to the result; a message that cannot be read is
    reported and the others are kept. A fault of the tokenizer itself is reported as the interchange's.
    """
    result = ParseResult(file=file, format=format)
    try:
        interchanges, problems = read_interchanges(data, file=file)
    except Exception as exc:  # a tokenizer bug must not take the intake worker down
        result.problems.append(Problem(file, "interchange", f"unreadable: {type(exc).__name__}: {exc}"))
        return result
    result.problems.extend(problems)
    for interchange in interchanges:
        for message in interchange.messages:
            if message.message_type != message_type:
                result.problems.append(
                    Problem(
                        file, message.where, f"{message.message_type!r} message, not {message_type}: skipped"
                    )
                )
                continue
            try:
                parse(interchange, message, result)
            except Exception as exc:  # report the message, keep the others
                result.problems.append(
                    Problem(file, message.where, f"could not be read: {type(exc).__name__}: {exc}")
                )
    return result


def _read_interchange(
    segments: list[Segment],
    services: list[int],
    malformed: list[int],
    position: int,
    seps: Separators,
    file: str,
    problems: list[Problem],
) -> tuple[Interchange | None, int]:
    """Read one UNB..UNZ starting at ``position``; return it (None if refused) and the next position."""
    unb = segments[position]
    interchange = _interchange_header(unb, seps)
    message: Message | None = None
    group: Segment | None = None
    group_messages = 0
    groups = 0
    total = len(segments)
    # Walk the service segments only; a message body is the slice between its UNH and UNT.
    cursor = position + 1
    while cursor < total:
        service = _next_service(services, cursor, total)
        for segment in segments[cursor:service] if message is None else ():
            interchange.warnings.append(Problem(file, segment.where, "segment outside any message ignored"))
        if service >= total:
            break
        segment = segments[service]
        tag = segment.tag
        if message is not None:
            message.body = segments[cursor:service]
        cursor = service + 1
        if tag == "UNH":
            if message is not None:
                problems.append(_unterminated(file, message, segment))
            message = _open_message(segment, group)
        elif tag == "UNT":
            if message is None:
                problems.append(Problem(file, segment.where, "UNT without a preceding UNH"))
                continue
            message.trailer = segment
            group_messages += 1
            _close_message(segments, malformed, service, message, interchange, file, problems)
            message = None
        elif tag == "UNG":
            groups += 1
            group, group_messages = segment, 0
        elif tag == "UNE":
            if message is not None:
                problems.append(_unterminated(file, message, segment))
                message = None
            _check_group_count(interchange, segment, group_messages, file)
            group = None
        else:  # UNZ or UNB: the interchange ends here either way
            if message is not None:
                problems.append(_unterminated(file, message, segment))
            if tag == "UNB":
                problems.append(
                    Problem(file, unb.where, "interchange has no UNZ trailer before the next UNB")
                )
                return interchange, service
            refused = not _close_interchange(interchange, segment, groups, file, problems)
            return (None if refused else interchange), cursor
    if message is not None:
        problems.append(
            Problem(file, message.where, f"message {message.reference!r} is truncated: no UNT before the end")
        )
    problems.append(Problem(file, unb.where, "interchange has no UNZ trailer (file truncated?)"))
    return interchange, total


def _open_message(unh: Segment, group: Segment | None) -> Message:
    """A message begun by its UNH header, inside the functional group ``group`` if any."""
    return Message(
        reference=unh.get(0).strip(),
        message_type=unh.get(1).strip(),
        version=[c.strip() for c in unh.element(1)[1:]],
        header=unh,
        group_reference=group.get(4) if group else "",
    )


def _interchange_header(unb: Segment, seps: Separators) -> Interchange:
    """An empty interchange carrying what its UNB header says."""
    return Interchange(
        separators=seps,
        header=unb,
        syntax=unb.get(0),
        sender=unb.get(1).strip(),
        recipient=unb.get(2).strip(),
        prepared=parse_edifact_datetime(unb.get(3, 0).strip(), unb.get(3, 1).strip()),
        control_reference=unb.get(4).strip(),
    )


def _close_message(
    segments: list[Segment],
    malformed: list[int],
    service: int,
    message: Message,
    interchange: Interchange,
    file: str,
    problems: list[Problem],
) -> None:
    """At a message's UNT: drop it if its body holds a malformed segment, else check the trailer and keep it."""
    first_bad = bisect_left(malformed, service - len(message.body))
    corrupt = (
        segments[malformed[first_bad]]
        if first_bad < len(malformed) and malformed[first_bad] < service
        else None
    )
    if corrupt is not None:
        problems.append(
            Problem(
                file,
                corrupt.where,
                f"malformed segment {corrupt.canonical()[:40]!r} in message "
                f"{message.reference!r}: message dropped",
            )
        )
    else:
        _check_trailer(file, message, segments[service])
        interchange.messages.append(message)


def _check_group_count(interchange: Interchange, une: Segment, group_messages: int, file: str) -> None:
    """Warn when a UNE's message count differs from the messages the group held."""
    declared = _int(une.get(0))
    if declared is not None and declared != group_messages:
        interchange.warnings.append(
            Problem(
                file,
                une.where,
                f"UNE counts {declared} message(s), the group holds {group_messages}",
            )
        )


def _close_interchange(
    interchange: Interchange, unz: Segment, groups: int, file: str, problems: list[Problem]
) -> bool:
    """Check the UNZ trailer; False (with a problem) when its reference is corrupt and the interchange refused."""
    interchange.trailer = unz
    reference = unz.get(1).strip()
    if not _is_reference(reference):
        problems.append(
            Problem(
                file,
                unz.where,
                f"UNZ interchange control reference {reference[:60]!r} is not a reference "
                "(1 to 14 characters): the trailer is corrupt, so the interchange is refused",
            )
        )
        return False
    if reference != interchange.control_reference:
        interchange.warnings.append(
            Problem(
                file,
                unz.where,
                f"UNZ interchange control reference {reference!r} differs from the UNB's "
                f"{interchange.control_reference!r}",
            )
        )
    declared = _int(unz.get(0))
    counted = groups or len(interchange.messages)
    if declared is not None and declared != counted:
        what = "group(s)" if groups else "message(s)"
        interchange.warnings.append(
            Problem(file, unz.where, f"UNZ counts {declared} {what}, found {counted}")
        )
    return True


_SERVICE_TAGS = frozenset({"UNH", "UNT", "UNG", "UNE", "UNZ", "UNB"})


def _next_service(services: list[int], start: int, total: int) -> int:
    """Position of the next service segment at or after ``start`` (``total`` if none)."""
    found = bisect_left(services, start)
    return services[found] if found < len(services) else total


def _unterminated(file: str, message: Message, found: Segment) -> Problem:
    return Problem(
        file,
        message.where,
        f"message {message.reference!r} has no UNT: {found.tag} at {found.where} came first; message dropped",
    )


def _is_reference(value: str) -> bool:
    """Control references (0020, 0048, 0062) are an..14: anything longer means text ran into them."""
    return 0 < len(value) <= 14


def _check_trailer(file: str, message: Message, unt: Segment) -> None:
    declared = _int(unt.get(0))
    counted = len(message.body) + 2
    if declared != counted:
        message.warnings.append(
            Problem(
                file,
                unt.where,
                f"UNT of message {message.reference!r} counts {unt.get(0)!r} segments, found {counted}",
            )
        )
    reference = unt.get(1).strip()
    if reference and reference != message.reference:
        message.warnings.append(
            Problem(
                file,
                unt.where,
                f"UNT reference {reference!r} differs from the UNH reference {message.reference!r}",
            )
        )


def resolve_year(two_digits: int, *, reference: date, past: bool) -> int:
    """Full year for a two-digit year, relative to the message's own date.

    ``past=True`` (dates of birth, bookings) picks the latest year not after the reference;
    otherwise (expiries, flights) the year in the reference century unless that is over 50 years back.
    """
    year = reference.year // 100 * 100 + two_digits
    if past:
        return year - 100 if year > reference.year else year
    return year + 100 if year < reference.year - 50 else year


def parse_dtm(value: str, fmt: str = "", *, reference: date, past: bool = False) -> datetime | None:
    """A DTM value in format 101 (YYMMDD), 102 (CCYYMMDD), 201 (YYMMDDHHMM), 203 (CCYYMMDDHHMM) or
    204 (CCYYMMDDHHMMSS); the format is inferred from the length when the qualifier is absent."""
    value = value.strip()
    if not value.isdigit():
        return None
    if fmt not in ("101", "102", "201", "203", "204"):
        fmt = {6: "101", 8: "102", 10: "201", 12: "203", 14: "204"}.get(len(value), "")
    try:
        if fmt in ("101", "201"):
            year = resolve_year(int(value[:2]), reference=reference, past=past)
            rest = value[2:]
        elif fmt in ("102", "203", "204"):
            year, rest = int(value[:4]), value[4:]
        else:
            return None
        hour = int(rest[4:6]) if len(rest) >= 6 else 0
        minute = int(rest[6:8]) if len(rest) >= 8 else 0
        return datetime(year, int(rest[:2]), int(rest[2:4]), hour, minute)
    except ValueError:
        return None


def interchange_version(interchange: Interchange) -> str:
    """A sortable version for messages of this interchange: preparation date/time, then control
    reference (right-aligned, so numeric references sort by value) as the tie-break."""
    prepared = interchange.prepared.strftime("%Y%m%d%H%M") if interchange.prepared else "000000000000"
    return f"{prepared}/{interchange.control_reference:>14}"
