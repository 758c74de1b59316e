"""The UN Security Council consolidated list (XML), streamed with ``lxml.etree.iterparse``.

Each ``<INDIVIDUAL>`` or ``<ENTITY>`` becomes one :class:`WatchlistEntry`, its id derived from the
list's stable ``DATAID``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from lxml import etree

from apps.watchlists.importers.countries import country_or_raw
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import (
    Address,
    Alias,
    AliasQuality,
    BirthDate,
    Document,
    WatchlistEntry,
    WatchlistImportError,
    join_parts,
)

_UN_QUALITY: dict[str, AliasQuality] = {"good": "strong", "a.k.a.": "strong", "low": "weak"}
_UN_DOC_TYPES = {
    "passport": "passport",
    "numero de pasaporte": "passport",
    "número de pasaporte": "passport",
    "numéro de passeport": "passport",
    "national identification number": "national_id",
    "national identification": "national_id",
}


def _text(el: etree._Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def _child(el: etree._Element, tag: str) -> str:
    return _text(el.find(tag))


def _values(el: etree._Element, tag: str) -> list[str]:
    return [t for v in el.findall(f"{tag}/VALUE") if (t := _text(v))]


def _un_entry(el: etree._Element, path: Path) -> WatchlistEntry:
    """Convert one <INDIVIDUAL> or <ENTITY> element into a WatchlistEntry.

    Each part of the entry is read by its own step below; a step that finds bad input raises
    :class:`WatchlistImportError` naming the element, in the order the fields are read here.
    """
    is_person = el.tag == "INDIVIDUAL"
    where = f"line {el.sourceline}, <{el.tag}>"
    dataid = _child(el, "DATAID")
    if not dataid:
        raise WatchlistImportError(path, where, "DATAID", "missing or empty; it is the stable id")
    where = f"line {el.sourceline}, <{el.tag}> DATAID {dataid}"
    parts = [_child(el, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not name:
        raise WatchlistImportError(path, where, "FIRST_NAME", "entry has no name")
    aliases = _un_aliases(el)
    dobs = _un_dates_of_birth(el, path, where)
    pobs = [
        p
        for b in el.findall("INDIVIDUAL_PLACE_OF_BIRTH")
        if (p := join_parts(_child(b, "CITY"), _child(b, "STATE_PROVINCE"), _child(b, "COUNTRY")))
    ]
    documents = _un_documents(el)
    addresses = _un_addresses(el)
    nationalities = [c for v in _values(el, "NATIONALITY") if (c := country_or_raw(v))]
    listed_on = _un_listed_on(el, path, where)
    remarks = " ".join(
        t for t in (*_values(el, "TITLE"), *_values(el, "DESIGNATION"), _child(el, "COMMENTS1")) if t
    )
    return WatchlistEntry(
        source="UN",
        external_id=f"UN-{dataid}",
        kind="person" if is_person else "organisation",
        name=name,
        aliases=aliases,
        dates_of_birth=dobs,
        places_of_birth=pobs,
        nationalities=nationalities,
        documents=documents,
        addresses=addresses,
        programmes=[p for p in (_child(el, "UN_LIST_TYPE"),) if p],
        remarks=remarks,
        listed_on=listed_on,
        gender=_child(el, "GENDER") or None,
        reference=_child(el, "REFERENCE_NUMBER") or None,
    )


def _un_aliases(el: etree._Element) -> list[Alias]:
    """The name in its original script, then every alias, graded by the list's own quality.

    The original script is screened as a strong alias: a name written in Arabic or Cyrillic on a
    document must meet the same entry as its romanisation.
    """
    aliases: list[Alias] = []
    original = _child(el, "NAME_ORIGINAL_SCRIPT")
    if original:
        aliases.append(Alias(original, "strong", "original_script"))
    for al in el.findall("INDIVIDUAL_ALIAS") + el.findall("ENTITY_ALIAS"):
        alias_name = _child(al, "ALIAS_NAME")
        if not alias_name:
            continue
        quality = _child(al, "QUALITY").casefold()
        alias_type = "fka" if quality == "f.k.a." else "aka"
        # Some aliases hold several names in one field ("Sayed Akbar; Syed Akber"): one alias each.
        for part in alias_name.split(";"):
            if part.strip():
                aliases.append(Alias(part.strip(), _UN_QUALITY.get(quality), alias_type))
    return aliases


def _un_dates_of_birth(el: etree._Element, path: Path, where: str) -> list[BirthDate]:
    """Dates of birth, as a full date, a range of years or a year; a bad one is an import error.

    A date the list gives but we cannot read is refused rather than dropped: a date of birth is
    evidence that separates two people of one name.
    """
    dobs: list[BirthDate] = []
    for d in el.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        kind = _child(d, "TYPE_OF_DATE").upper()
        approx = kind == "APPROXIMATELY"
        if full := _child(d, "DATE"):
            parsed = parse_date_of_birth(full)
            if not parsed:
                raise WatchlistImportError(
                    path, f"line {d.sourceline}, {where}", "DATE", f"bad date {full!r}"
                )
            dobs.extend(BirthDate(b.year, b.month, b.day, approximate=approx) for b in parsed)
        elif (lo := _child(d, "FROM_YEAR")) and (hi := _child(d, "TO_YEAR")):
            if not (lo.isdigit() and hi.isdigit()):
                raise WatchlistImportError(path, f"line {d.sourceline}, {where}", "FROM_YEAR", "not a year")
            a, b = sorted((int(lo), int(hi)))
            dobs.append(BirthDate(a, year_to=b, approximate=True))
        elif year := _child(d, "YEAR"):
            if not year.isdigit():
                raise WatchlistImportError(
                    path, f"line {d.sourceline}, {where}", "YEAR", f"bad year {year!r}"
                )
            dobs.append(BirthDate(int(year), approximate=approx))
    return dobs


def _un_documents(el: etree._Element) -> list[Document]:
    """Identity documents with a number (passports and national ids under one type name each)."""
    documents = []
    for doc in el.findall("INDIVIDUAL_DOCUMENT"):
        number = _child(doc, "NUMBER")
        if not number:
            continue
        raw_type = _child(doc, "TYPE_OF_DOCUMENT") or _child(doc, "TYPE_OF_DOCUMENT2") or "document"
        country = _child(doc, "ISSUING_COUNTRY") or _child(doc, "COUNTRY_OF_ISSUE")
        documents.append(
            Document(
                _UN_DOC_TYPES.get(raw_type.casefold(), raw_type),
                number,
                country_or_raw(country),
                _child(doc, "NOTE") or None,
            )
        )
    return documents


def _un_addresses(el: etree._Element) -> list[Address]:
    """Addresses of a person or an entity, with the country as an ISO code where it is known."""
    addresses = []
    for ad in el.findall("INDIVIDUAL_ADDRESS") + el.findall("ENTITY_ADDRESS"):
        country = _child(ad, "COUNTRY")
        text = join_parts(*(_child(ad, t) for t in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE")), country)
        if text:
            addresses.append(Address(text, country_or_raw(country)))
    return addresses


def _un_listed_on(el: etree._Element, path: Path, where: str) -> date | None:
    """The date the entry was listed (ISO, maybe with a time); a bad one is an import error."""
    listed = _child(el, "LISTED_ON")
    listed_on = None
    if listed:
        try:
            listed_on = date.fromisoformat(listed[:10])
        except ValueError:
            raise WatchlistImportError(path, where, "LISTED_ON", f"not an ISO date: {listed!r}") from None
    return listed_on


def load_un_consolidated(path: str | Path) -> Iterator[WatchlistEntry]:
    """Stream entries from the UN consolidated list XML in constant memory.

    Each <INDIVIDUAL>/<ENTITY> is converted when its end tag is read and then cleared together
    with already-processed siblings, so memory does not grow with the file.
    """
    path = Path(path)
    if not path.is_file():
        raise WatchlistImportError(path, "file", "-", "file not found")
    context = etree.iterparse(str(path), events=("end",), tag=("INDIVIDUAL", "ENTITY"), huge_tree=False)
    try:
        for _event, el in context:
            entry = _un_entry(el, path)
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
            yield entry
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else "?"
        raise WatchlistImportError(path, f"line {line}", "-", f"malformed XML: {exc.msg}") from None
