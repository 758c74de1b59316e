"""One payload parsed, whatever its format: pure (no Django), so that it also runs in a parsing process.

``parse_payload`` detects the format unless given and calls its parser; ``parse_file`` is what a run
parses a file with (a trader register source reads register files whatever they look like). Both are
re-exported by ``apps.intake.services``; ``apps.intake.parallel`` runs ``parse_file`` in a process of its
own while the previous file is stored.
"""

from __future__ import annotations

from collections.abc import Callable

from apps.intake.parsers.base import ParseResult, Problem

__all__ = ["REGISTER_FORMATS", "parse_file", "parse_payload"]

REGISTER_FORMATS = ("traders-csv", "traders-json")


def parse_payload(data: bytes, *, name: str, fmt: str = "auto") -> ParseResult:
    """Detect the format (unless given) and parse; an unknown format is one problem naming the file."""
    from apps.intake.parsers.detect import detect_format

    if fmt == "auto":
        fmt = detect_format(data, name) or ""
        if not fmt:
            return ParseResult(
                file=name,
                format="unknown",
                problems=[
                    Problem(
                        name,
                        "file",
                        "not a recognised format (PAXLST, PNRGOV, WCO DEC, Cargo-XML, CSV, JSON)",
                    )
                ],
            )
    parse: Callable[..., ParseResult]  # each format's parser, imported when its format is asked for
    if fmt == "paxlst":
        from apps.intake.parsers.paxlst import parse_paxlst as parse
    elif fmt == "pnrgov":
        from apps.intake.parsers.pnrgov import parse_pnrgov as parse
    elif fmt == "wco-dec":
        from apps.intake.parsers.wco_dec import parse_wco_dec as parse
    elif fmt in {"xfwb", "xfzb"}:
        from apps.intake.parsers.cargo_xml import parse_cargo_xml as parse
    elif fmt == "declarations-csv":
        from apps.intake.parsers.declarations_csv import parse_declarations_csv as parse
    elif fmt == "json":
        from apps.intake.parsers.json_intake import parse_json as parse
    elif fmt in REGISTER_FORMATS:
        from apps.intake.parsers.traders import parse_traders

        return parse_traders(data, file=name, fmt=fmt)
    else:
        return ParseResult(file=name, format=fmt, problems=[Problem(name, "file", f"unknown format {fmt!r}")])
    return parse(data, file=name)


def parse_file(name: str, data: bytes, fmt: str, register: bool) -> ParseResult:
    """A file of a run: ``register`` when the run's source is a trader register read in format "auto"
    (its CSV is no declaration)."""
    if register:
        from apps.intake.parsers.traders import parse_traders

        return parse_traders(data, file=name)
    return parse_payload(data, name=name, fmt=fmt)
