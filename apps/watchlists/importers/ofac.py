"""The OFAC SDN list in its legacy CSV form: ``sdn.csv``, ``alt.csv`` and ``add.csv``.

No header row, ``-0-`` as the null marker; dates of birth, passports and vessel identifiers live in
free-text remarks, which :func:`_apply_ofac_remarks` reads into the entry's fields.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from apps.watchlists.importers.countries import country_or_raw
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import (
    Address,
    Alias,
    Document,
    EntryKind,
    WatchlistEntry,
    WatchlistImportError,
    join_parts,
)

_OFAC_KINDS: dict[str, EntryKind] = {
    "individual": "person",
    "": "organisation",
    "entity": "organisation",
    "vessel": "vessel",
    "aircraft": "aircraft",
}
_OFAC_ALT_TYPES = {"aka": "aka", "fka": "fka", "nka": "nka"}
# Remark prefixes that are facts, not documents (everything else "<type> <number> (<country>)" is).
_NOT_DOCUMENT = re.compile(
    r"^(dob|pob|nationality|citizen|gender|linked to|additional sanctions|secondary sanctions|website|"
    r"e-?mail|telephone|phone|fax|arrested|aircraft manufacture date|aircraft model|aircraft operator|"
    r"aircraft manufacturer's serial|a\.k\.a|f\.k\.a|n\.k\.a|organization established|target type|"
    r"executive order|ifca|caatsa|listing date|digital currency)",
    re.IGNORECASE,
)
_DOC_HINT = re.compile(
    r"(passport|\bid\b|no\.?$|number|#|cedula|registration|identification|licen[cs]e|card|code|imo|mmsi|"
    r"swift|ssn|r\.?f\.?c\.?|c\.?u\.?r\.?p\.?|\bnit\b|\bruc\b|\brif\b|d\.?n\.?i\.?|folio|matricula|"
    r"i\.?f\.?e\.?|credencial|cartilla|\brtn\b|fein|d-u-n-s|\bbik\b|v\.?a\.?t\.?|c\.r\.|serial|tail)",
    re.IGNORECASE,
)
_DOC_RE = re.compile(
    r"^(?P<type>[^\d]{2,70}?)[\s:]+(?P<number>[A-Z0-9][\w./-]*\d[\w./ -]*?)"
    r"(?:\s*\((?P<country>[^)]+)\))?(?P<note>\s+(?:issued|expires|valid|alt\.).*)?$",
    re.IGNORECASE,
)


def _null(value: str) -> str:
    """OFAC writes '-0- ' for empty; the last field of a file is sometimes cut to '-0'."""
    v = value.strip()
    return "" if re.fullmatch(r"-0-?", v) else v


def _split_remarks(remarks: str) -> list[str]:
    """Split OFAC remarks on ';' outside parentheses and quotes."""
    parts: list[str] = []
    buf: list[str] = []
    depth, quote = 0, False
    for ch in remarks:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "'" and (not buf or buf[-1] in " .") and not quote:
            quote = True
        elif ch == "'" and quote:
            quote = False
        if ch == ";" and depth == 0:
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf).strip())
    return [p.rstrip(".").strip() for p in parts if p.strip(" .")]


def _apply_ofac_remarks(entry: WatchlistEntry, remarks: str, path: Path, line: int) -> None:
    """Pull DOB/POB/nationality/documents/weak akas out of the free-text remarks."""
    rest: list[str] = []
    for part in _split_remarks(remarks):
        text = re.sub(r"^alt\.\s+", "", part, flags=re.IGNORECASE)
        low = text.casefold()
        if low.startswith("dob "):
            parsed = parse_date_of_birth(text[4:])
            if parsed:
                entry.dates_of_birth.extend(parsed)
            else:
                rest.append(part)  # keep what we cannot parse visible rather than drop it
        elif low.startswith("pob "):
            entry.places_of_birth.append(text[4:].strip())
        elif low.startswith(("nationality ", "citizen ")):
            value = re.sub(r"^of registration\s+", "", text.split(" ", 1)[1], flags=re.IGNORECASE)
            if value.casefold() in ("none identified", "undetermined", "unknown"):
                continue
            code = country_or_raw(value)
            if code and code not in entry.nationalities:
                entry.nationalities.append(code)
        elif low.startswith("gender "):
            entry.gender = text[7:].strip()
        elif m := re.match(r"^(a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s+'(.+)'$", text, re.IGNORECASE):
            alias_type = m.group(1).replace(".", "").casefold()
            entry.aliases.append(Alias(m.group(2).strip(), "weak", alias_type))
        elif low.startswith("vessel registration identification imo"):
            entry.documents.append(Document("IMO", text.rsplit(" ", 1)[-1]))
        elif not _NOT_DOCUMENT.match(text) and (m := _DOC_RE.match(text)) and _DOC_HINT.search(m["type"]):
            doc_type = m["type"].strip(" :").removesuffix(" No.").removesuffix(" No").strip()
            entry.documents.append(
                Document(
                    "passport" if doc_type.casefold() == "passport" else doc_type,
                    m["number"].strip(),
                    country_or_raw(m["country"]),
                    (m["note"] or "").strip() or None,
                )
            )
        else:
            rest.append(part)
    entry.remarks = "; ".join(rest)


def _read_ofac_rows(path: Path, width: int) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, row) from a headerless OFAC CSV, checking the column count."""
    if not path.is_file():
        raise WatchlistImportError(path, "file", "-", "file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # older OFAC files are Windows-1252
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()) or row[0] == "\x1a":
                continue
            if len(row) != width:
                raise WatchlistImportError(
                    path, f"line {reader.line_num}", "-", f"expected {width} columns, found {len(row)}"
                )
            if not row[0].strip().isdigit():
                raise WatchlistImportError(
                    path, f"line {reader.line_num}", "ent_num", f"not a number: {row[0]!r}"
                )
            yield reader.line_num, row
    except csv.Error as exc:
        raise WatchlistImportError(path, f"line {reader.line_num}", "-", f"CSV error: {exc}") from None


def load_ofac_sdn(directory: str | Path) -> Iterator[WatchlistEntry]:
    """Read the OFAC SDN legacy CSV trio from ``directory`` (sdn.csv + alt.csv + add.csv).

    Aliases and addresses are joined to their entries by ``ent_num``; an alias or address whose
    entry is missing from sdn.csv is an error (the files are out of step).
    """
    directory = Path(directory)
    aliases: dict[str, list[Alias]] = defaultdict(list)
    alt_path = directory / "alt.csv"
    for line, row in _read_ofac_rows(alt_path, 5):
        ent, _alt_num, alt_type, alt_name, _remarks = (_null(v) for v in row)
        if not alt_name:
            raise WatchlistImportError(alt_path, f"line {line}", "alt_name", "empty alias")
        # OFAC puts only its "strong" a.k.a.s in alt.csv; weak ones stay in the remarks.
        aliases[ent].append(Alias(alt_name, "strong", _OFAC_ALT_TYPES.get(alt_type.casefold(), "aka")))
    addresses: dict[str, list[Address]] = defaultdict(list)
    for _line, row in _read_ofac_rows(directory / "add.csv", 6):
        ent, _add_num, street, city_line, country, _remarks = (_null(v) for v in row)
        text = join_parts(street, city_line, country)
        if text:
            addresses[ent].append(Address(text, country_or_raw(country)))
    sdn_path = directory / "sdn.csv"
    seen: set[str] = set()
    for line, row in _read_ofac_rows(sdn_path, 12):
        ent, name, sdn_type, program, title, call_sign, vess_type, _ton, _grt, flag, owner, remarks = (
            _null(v) for v in row
        )
        if not name:
            raise WatchlistImportError(sdn_path, f"line {line}", "SDN_Name", "empty name")
        kind = _OFAC_KINDS.get(sdn_type.casefold())
        if kind is None:
            raise WatchlistImportError(sdn_path, f"line {line}", "SDN_Type", f"unknown type {sdn_type!r}")
        if ent in seen:
            raise WatchlistImportError(sdn_path, f"line {line}", "ent_num", f"duplicate {ent}")
        seen.add(ent)
        entry = WatchlistEntry(
            source="OFAC-SDN",
            external_id=f"OFAC-{ent}",
            kind=kind,
            name=name,
            aliases=list(aliases.pop(ent, ())),
            addresses=addresses.pop(ent, []),
            programmes=[p.strip() for p in re.split(r"\]\s*\[", program.strip("[]")) if p.strip()],
        )
        if call_sign:
            entry.documents.append(Document("call sign", call_sign))
        if flag:
            entry.nationalities.append(country_or_raw(flag) or flag)
        _apply_ofac_remarks(entry, remarks, sdn_path, line)
        extra = [f"Title: {title}" if title else "", f"Vessel type: {vess_type}" if vess_type else ""]
        extra.append(f"Owner: {owner}" if owner else "")
        entry.remarks = "; ".join(p for p in (*extra, entry.remarks) if p)
        yield entry
    if aliases:
        orphan = next(iter(aliases))
        raise WatchlistImportError(
            alt_path, "ent_num " + orphan, "ent_num", "alias for an entry not in sdn.csv"
        )
