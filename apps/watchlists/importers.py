"""Watchlist importers: turn published sanctions lists into plain, Django-free dataclasses.

Each importer yields :class:`WatchlistEntry` objects one by one, so a caller can stream a large
list into the database or into a :class:`~apps.watchlists.matching.ScreeningIndex` without holding
the raw file in memory. Supported formats:

* the UN Security Council consolidated list (XML, parsed with ``lxml.etree.iterparse``);
* the OFAC SDN list in its legacy CSV form (``sdn.csv``, ``alt.csv``, ``add.csv``, no header row,
  ``-0-`` as the null marker; dates of birth, passports and vessel identifiers live in free-text
  remarks);
* a generic CSV with a header row, for national lists and hand-kept lookouts (see
  :data:`GENERIC_COLUMNS`).

External ids are derived only from the list's own stable identifiers (UN ``DATAID``, OFAC
``ent_num``, the generic ``id`` column), so re-importing a list yields the same ids and a caller
can upsert. Bad input raises :class:`WatchlistImportError`, which names the file, the line or
element and the field; importers never crash with a bare ``KeyError`` or ``IndexError``.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from lxml import etree

from apps.intake.keys import BadKey, normal_key

__all__ = [
    "EXTRA_KEY_FIELDS",
    "GENERIC_COLUMNS",
    "KEY_ENTRY_KINDS",
    "Address",
    "Alias",
    "BadEntryKey",
    "BirthDate",
    "Document",
    "EntryKind",
    "WatchlistEntry",
    "WatchlistImportError",
    "apply_keys",
    "country_code",
    "load_generic_csv",
    "load_ofac_sdn",
    "load_un_consolidated",
    "parse_date_of_birth",
]

EntryKind = Literal[
    "person", "organisation", "vessel", "aircraft", "vehicle", "container", "phone", "email", "payment_card"
]
KINDS: frozenset[str] = frozenset(
    ("person", "organisation", "vessel", "aircraft", "vehicle", "container", "phone", "email", "payment_card")
)
#: Entry kinds that are a key themselves: the entry's name is the container number, phone number...
KEY_ENTRY_KINDS = ("container", "phone", "email", "payment_card")
#: Keys any entry may carry besides its name (a person's phones, a vessel's IMO number...), as the
#: generic CSV's columns and the API's lists name them.
EXTRA_KEY_FIELDS = {"imo": "imo", "containers": "container", "phones": "phone", "emails": "email",
                    "payment_cards": "payment_card"}  # fmt: skip
AliasQuality = Literal["strong", "weak"]


class WatchlistImportError(ValueError):
    """A watchlist file could not be read; says where (file, line or element, field) and why."""

    def __init__(self, path: str | Path, where: str, field_name: str, problem: str) -> None:
        self.path = str(path)
        self.where = where
        self.field_name = field_name
        self.problem = problem
        super().__init__(f"{self.path}, {where}, field {field_name!r}: {problem}")


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of the entry. ``quality`` is set only when the list grades its aliases."""

    name: str
    quality: AliasQuality | None = None
    alias_type: str = "aka"  # aka, fka (formerly), nka (now), original_script


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth as precise as the list gives it.

    ``month``/``day`` are ``None`` for year-only dates; ``year_to`` is set for ranges
    ("between 1955 and 1958"); ``approximate`` for "circa" dates.
    """

    year: int
    month: int | None = None
    day: int | None = None
    year_to: int | None = None
    approximate: bool = False

    @property
    def is_full(self) -> bool:
        """True when year, month and day are known (an exact comparison is meaningful)."""
        return self.month is not None and self.day is not None and self.year_to is None

    def years(self) -> range:
        """The birth years this value covers (a range of one for exact dates)."""
        return range(self.year, (self.year_to or self.year) + 1)

    def __str__(self) -> str:
        if self.year_to:
            return f"{self.year}..{self.year_to}"
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return ("~" if self.approximate else "") + text


@dataclass(frozen=True, slots=True)
class Document:
    """An identity or registration document: passport, national id, IMO number, tax id..."""

    doc_type: str
    number: str
    country: str | None = None  # ISO alpha-2 where derivable, else the list's wording
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; ``country`` is ISO alpha-2 where derivable."""

    text: str
    country: str | None = None


@dataclass(slots=True)
class WatchlistEntry:
    """One listed person, organisation, vessel... as imported from a list."""

    source: str
    external_id: str
    kind: EntryKind
    name: str
    aliases: list[Alias] = field(default_factory=list)
    dates_of_birth: list[BirthDate] = field(default_factory=list)
    places_of_birth: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    remarks: str = ""
    listed_on: date | None = None
    gender: str | None = None
    reference: str | None = None  # the list's human reference, e.g. UN "QDi.001"
    #: Extra exact keys in normal form, by kind (``imo``, ``container``, ``phone``, ``email``,
    #: ``payment_card``); see :func:`apply_keys`.
    identifiers: dict[str, list[str]] = field(default_factory=dict)

    def all_names(self) -> list[str]:
        """Primary name first, then distinct aliases, for indexing."""
        seen = {self.name.casefold()}
        names = [self.name]
        for alias in self.aliases:
            if alias.name.casefold() not in seen:
                seen.add(alias.name.casefold())
                names.append(alias.name)
        return names


# --------------------------------------------------------------------------------------------
# Countries: names as the lists write them -> ISO 3166-1 alpha-2
# --------------------------------------------------------------------------------------------

_COUNTRY_TABLE = """
AF Afghanistan; Afghan|AL Albania; Albanian|DZ Algeria; Algerian|AD Andorra|AO Angola; Angolan|AG Antigua and Barbuda
AR Argentina; Argentine; Argentinian|AM Armenia; Armenian|AW Aruba|AU Australia; Australian|AT Austria; Austrian
AZ Azerbaijan; Azerbaijani|BS Bahamas; Bahamas, The; The Bahamas|BH Bahrain; Bahraini|BD Bangladesh; Bangladeshi
BB Barbados|BY Belarus; Belarusian|BE Belgium; Belgian|BZ Belize|BJ Benin|BT Bhutan|BO Bolivia; Bolivian
BA Bosnia and Herzegovina; Bosnia-Herzegovina; Bosnian|BW Botswana|BR Brazil; Brazilian|BN Brunei; Brunei Darussalam
BG Bulgaria; Bulgarian|BF Burkina Faso|BI Burundi; Burundian|CV Cabo Verde; Cape Verde|KH Cambodia; Cambodian
CM Cameroon; Cameroonian|CA Canada; Canadian|KY Cayman Islands|CF Central African Republic|TD Chad; Chadian
CL Chile; Chilean|CN China; Chinese; People's Republic of China|CO Colombia; Colombian|KM Comoros
CG Congo; Republic of the Congo; Congo, Republic of the; Congo-Brazzaville
CD Democratic Republic of the Congo; Congo, Democratic Republic of the; DRC; Congo-Kinshasa; Zaire
CR Costa Rica|CI Cote d Ivoire; Cote d'Ivoire; Ivory Coast; Ivorian|HR Croatia; Croatian|CU Cuba; Cuban
CY Cyprus; Cypriot|CZ Czech Republic; Czechia; Czech|DK Denmark; Danish|DJ Djibouti|DM Dominica
DO Dominican Republic|EC Ecuador; Ecuadorian|EG Egypt; Egyptian|SV El Salvador; Salvadoran|GQ Equatorial Guinea
ER Eritrea; Eritrean|EE Estonia; Estonian|SZ Eswatini; Swaziland|ET Ethiopia; Ethiopian|FJ Fiji|FI Finland; Finnish
FR France; French|GA Gabon; Gabonese|GM Gambia; The Gambia; Gambia, The|GE Georgia; Georgian|DE Germany; German
GH Ghana; Ghanaian|GI Gibraltar|GR Greece; Greek|GD Grenada|GT Guatemala; Guatemalan|GN Guinea; Guinean
GW Guinea-Bissau|GY Guyana|HT Haiti; Haitian|HN Honduras; Honduran
HK Hong Kong; China, Hong Kong Special Administrative Region; Hong Kong SAR|HU Hungary; Hungarian|IS Iceland
IN India; Indian|ID Indonesia; Indonesian|IR Iran; Iran (Islamic Republic of); Islamic Republic of Iran; Iranian
IQ Iraq; Iraqi|IE Ireland; Irish|IM Isle of Man; Man, Isle of|IL Israel; Israeli|IT Italy; Italian
JM Jamaica; Jamaican|JP Japan; Japanese|JE Jersey|JO Jordan; Jordanian|KZ Kazakhstan; Kazakh|KE Kenya; Kenyan
KI Kiribati|KP North Korea; Korea, North; Democratic People's Republic of Korea; DPRK; Korea, Democratic People's Republic of
KR South Korea; Korea, South; Republic of Korea; Korea, Republic of|XK Kosovo|KW Kuwait; Kuwaiti
KG Kyrgyzstan; Kyrgyz|LA Laos; Lao People's Democratic Republic|LV Latvia; Latvian|LB Lebanon; Lebanese
LS Lesotho|LR Liberia; Liberian|LY Libya; Libyan|LI Liechtenstein|LT Lithuania; Lithuanian|LU Luxembourg|MO Macau; Macao
MG Madagascar|MW Malawi|MY Malaysia; Malaysian|MV Maldives|ML Mali; Malian|MT Malta; Maltese|MH Marshall Islands
MR Mauritania; Mauritanian|MU Mauritius|MX Mexico; Mexican|FM Micronesia|MD Moldova; Republic of Moldova
MC Monaco|MN Mongolia; Mongolian|ME Montenegro|MA Morocco; Moroccan|MZ Mozambique|MM Myanmar; Burma; Burmese
NA Namibia|NR Nauru|NP Nepal; Nepalese|NL Netherlands; Dutch|AN Netherlands Antilles|NZ New Zealand|NI Nicaragua
NE Niger; Nigerien|NG Nigeria; Nigerian|MK North Macedonia; Macedonia; Macedonia, The Former Yugoslav Republic of
NO Norway; Norwegian|OM Oman; Omani|PK Pakistan; Pakistani|PW Palau
PS Palestine; State of Palestine; Palestinian; Palestinian Authority; West Bank; Gaza; Region: Gaza|PA Panama
PG Papua New Guinea|PY Paraguay|PE Peru; Peruvian|PH Philippines; Filipino|PL Poland; Polish|PT Portugal; Portuguese
QA Qatar; Qatari|RO Romania; Romanian|RU Russia; Russian Federation; Russian|RW Rwanda; Rwandan
KN Saint Kitts and Nevis|LC Saint Lucia|VC Saint Vincent and the Grenadines|WS Samoa|SM San Marino
ST Sao Tome and Principe|SA Saudi Arabia; Saudi|SN Senegal; Senegalese|RS Serbia; Serbian|SC Seychelles
SL Sierra Leone|SG Singapore; Singaporean|SK Slovakia; Slovak|SI Slovenia; Slovenian|SB Solomon Islands
SO Somalia; Somali|ZA South Africa; South African|SS South Sudan|ES Spain; Spanish|LK Sri Lanka; Sri Lankan
SD Sudan; Sudanese|SR Suriname|SE Sweden; Swedish|CH Switzerland; Swiss|SY Syria; Syrian Arab Republic; Syrian
TW Taiwan|TJ Tajikistan; Tajik|TZ Tanzania; United Republic of Tanzania|TH Thailand; Thai|TL Timor-Leste
TG Togo|TO Tonga|TT Trinidad and Tobago|TN Tunisia; Tunisian|TR Turkey; Türkiye; Turkiye; Turkish
TM Turkmenistan|UG Uganda; Ugandan|UA Ukraine; Ukrainian|AE United Arab Emirates; UAE; Emirati
GB United Kingdom; United Kingdom of Great Britain and Northern Ireland; UK; British; Great Britain
US United States; United States of America; USA; American|UY Uruguay|UZ Uzbekistan; Uzbek|VU Vanuatu
VE Venezuela; Venezuela (Bolivarian Republic of); Venezuelan|VN Vietnam; Viet Nam; Vietnamese
VG British Virgin Islands; Virgin Islands, British|YE Yemen; Yemeni|ZM Zambia|ZW Zimbabwe; Zimbabwean
"""


def _country_key(text: str) -> str:
    return re.sub(r"[^a-z]+", " ", text.casefold().replace("ü", "u")).strip()


def _build_country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for line in _COUNTRY_TABLE.strip().splitlines():
        for item in line.split("|"):
            code, _, names = item.strip().partition(" ")
            index[code.casefold()] = code
            for name in names.split(";"):
                index[_country_key(name)] = code
    return index


_COUNTRIES = _build_country_index()


def country_code(text: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, demonym or code as lists write them, else None.

    Trailing notes ("Cabo Verde.  Previously Cape Verde.") and qualifiers ("possibly Palestinian")
    are tolerated; anything unrecognised returns None so the caller can keep the raw text.
    """
    if not text:
        return None
    raw = text.strip()
    if len(raw) == 2 and raw.isalpha():
        return raw.upper() if raw.casefold() in _COUNTRIES else None
    key = _country_key(raw)
    if key in _COUNTRIES:
        return _COUNTRIES[key]
    key = re.sub(r"^(possibly|probably|reportedly|allegedly) ", "", key)
    if key in _COUNTRIES:
        return _COUNTRIES[key]
    first = _country_key(re.split(r"[.(]", raw, maxsplit=1)[0])
    return _COUNTRIES.get(first)


def _country_or_raw(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    return country_code(text) or text.strip()


# --------------------------------------------------------------------------------------------
# Dates of birth
# --------------------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        ),
        start=1,
    )
    for m in names.split()
}


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1850 <= year <= 2100:
        return False
    if month is None:
        return day is None
    try:
        date(year, month, day or 1)
    except ValueError:
        return False
    return True


def parse_date_of_birth(text: str) -> list[BirthDate]:
    """Parse the date-of-birth spellings lists use; return [] when nothing date-like is found.

    Handles ISO (``1960-01-12``, ``1960-01``, ``1960``), ``12 Jan 1960``, ``Jan 1960``,
    ``circa 1958``/``approximately``, ranges ``1955 to 1958``/``1955-1958``/``1955..1958`` and
    ``dd/mm/yyyy`` / ``dd.mm.yyyy``.
    """
    value = text.strip().casefold()
    approx = bool(re.search(r"\b(circa|ca\.|approx\w*|about)\b", value))
    value = re.sub(r"\b(circa|ca\.|approx\w*|about)\b", " ", value).strip(" .,;")
    m = re.fullmatch(r"(\d{4})\s*(?:to|-|\u2013|\.\.|and)\s*(\d{4})", value) or re.fullmatch(
        r"between\s+(\d{4})\s+and\s+(\d{4})", value
    )
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return [BirthDate(lo, year_to=hi, approximate=approx)] if _valid(lo, None, None) else []
    if " to " in value:  # "01 Jan 1953 to 31 Dec 1954": keep the covered years
        lo_text, _, hi_text = value.partition(" to ")
        lo, hi = parse_date_of_birth(lo_text), parse_date_of_birth(hi_text)
        if lo and hi:
            a, b = sorted((lo[0].year, hi[-1].year))
            return [BirthDate(a, year_to=b if b != a else None, approximate=approx)]
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:t.*)?", value)
    if m:
        y, mo, d = int(m.group(1)), m.group(2) and int(m.group(2)), m.group(3) and int(m.group(3))
        return [BirthDate(y, mo or None, d or None, approximate=approx)] if _valid(y, mo, d) else []
    m = re.fullmatch(r"(?:(\d{1,2})\s+)?([a-z]+)\.?,?\s+(\d{4})", value)
    if m and m.group(2) in _MONTHS:
        y, mo, d = int(m.group(3)), _MONTHS[m.group(2)], m.group(1) and int(m.group(1))
        return [BirthDate(y, mo, d or None, approximate=approx)] if _valid(y, mo, d) else []
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", value)
    if m:
        y, mo, d = int(m.group(3)), int(m.group(2)), int(m.group(1))
        return [BirthDate(y, mo, d, approximate=approx)] if _valid(y, mo, d) else []
    return []


# --------------------------------------------------------------------------------------------
# UN consolidated list (XML)
# --------------------------------------------------------------------------------------------

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


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _un_entry(el: etree._Element, path: Path) -> WatchlistEntry:
    """Convert one <INDIVIDUAL> or <ENTITY> element into a WatchlistEntry."""
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
    aliases: list[Alias] = []
    original = _child(el, "NAME_ORIGINAL_SCRIPT")
    if original:
        aliases.append(Alias(original, "strong", "original_script"))
    dobs: list[BirthDate] = []
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
    pobs = [
        p
        for b in el.findall("INDIVIDUAL_PLACE_OF_BIRTH")
        if (p := _join(_child(b, "CITY"), _child(b, "STATE_PROVINCE"), _child(b, "COUNTRY")))
    ]
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
                _country_or_raw(country),
                _child(doc, "NOTE") or None,
            )
        )
    addresses = []
    for ad in el.findall("INDIVIDUAL_ADDRESS") + el.findall("ENTITY_ADDRESS"):
        country = _child(ad, "COUNTRY")
        text = _join(*(_child(ad, t) for t in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE")), country)
        if text:
            addresses.append(Address(text, _country_or_raw(country)))
    nationalities = [c for v in _values(el, "NATIONALITY") if (c := _country_or_raw(v))]
    listed = _child(el, "LISTED_ON")
    listed_on = None
    if listed:
        try:
            listed_on = date.fromisoformat(listed[:10])
        except ValueError:
            raise WatchlistImportError(path, where, "LISTED_ON", f"not an ISO date: {listed!r}") from None
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


# --------------------------------------------------------------------------------------------
# OFAC SDN legacy CSV
# --------------------------------------------------------------------------------------------

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
    parts, depth, quote, buf = [], 0, False, []
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
            code = _country_or_raw(value)
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
                    _country_or_raw(m["country"]),
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
        text = _join(street, city_line, country)
        if text:
            addresses[ent].append(Address(text, _country_or_raw(country)))
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
            entry.nationalities.append(_country_or_raw(flag) or flag)
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


# --------------------------------------------------------------------------------------------
# Generic CSV
# --------------------------------------------------------------------------------------------

GENERIC_COLUMNS: dict[str, str] = {
    "id": "required; stable id of the entry in the source list (becomes '<source>-<id>')",
    "kind": "person | organisation | vessel | aircraft | vehicle | container | phone | email | payment_card "
    "(default person); for the last four the name is the key itself: an ISO 6346 container number, a phone "
    "number (+country code, or national in the first nationality), an e-mail address, a card number or the "
    "SHA-256 hex of one",
    "name": "required; primary name",
    "aliases": "';'-separated; append ' (weak)' or ' (strong)' to grade an alias",
    "date_of_birth": "';'-separated; YYYY-MM-DD, YYYY-MM, YYYY, '12 Jan 1960', 'circa 1960', 'YYYY..YYYY'",
    "place_of_birth": "';'-separated free text",
    "nationality": "';'-separated ISO alpha-2 codes or country names",
    "document_type": "type of the document in document_number (default 'document')",
    "document_number": "';'-separated numbers (all of document_type)",
    "document_country": "issuing country of the documents",
    "address": "';'-separated addresses",
    "programme": "';'-separated programme or list names",
    "remarks": "free text",
    "listed_on": "YYYY-MM-DD",
    "imo": "';'-separated IMO numbers (check digit verified)",
    "containers": "';'-separated ISO 6346 container numbers (check digit verified)",
    "phones": "';'-separated phone numbers",
    "emails": "';'-separated e-mail addresses",
    "payment_cards": "';'-separated card numbers or their SHA-256 hex",
}


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


class BadEntryKey(ValueError):
    """A key of an entry that is not valid for its kind; ``field`` names where it was given."""

    def __init__(self, field_name: str, problem: str) -> None:
        self.field_name = field_name
        self.problem = problem
        super().__init__(f"{field_name}: {problem}")


def apply_keys(
    entry: WatchlistEntry, extra: dict[str, list[str]], *, document_field: str = "documents"
) -> None:
    """Check and normalise an entry's exact keys in place, refusing a bad one (:class:`BadEntryKey`).

    A key entry (container, phone, e-mail, payment card) is stored under its normal form: its name
    becomes the E.164 number, the folded address, the checked container number; a card becomes the
    SHA-256 of its number, and the number is never kept (the name says only its last four digits).
    ``extra`` holds further keys by field (``phones``, ``containers``...); IMO documents are checked too.
    A phone number without a country code is read in the entry's first nationality.
    """
    region = next((n for n in entry.nationalities if n and len(n) == 2), None)

    def norm(kind: str, value: str, field_name: str) -> str:
        try:
            return normal_key(kind, value, region=region)
        except BadKey as exc:
            raise BadEntryKey(field_name, str(exc)) from None

    found: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        if value not in found.setdefault(kind, []):
            found[kind].append(value)

    if entry.kind in KEY_ENTRY_KINDS:
        value = norm(entry.kind, entry.name, "name")
        if entry.kind == "payment_card":
            digits = "".join(c for c in entry.name if c.isdigit())
            entry.name = (
                f"Payment card ending {digits[-4:]}" if len(digits) >= 12 else f"Payment card {value[:12]}…"
            )
        else:
            entry.name = value
        add(entry.kind, value)
    for field_name, values in extra.items():
        kind = EXTRA_KEY_FIELDS[field_name]
        for raw in values:
            add(kind, norm(kind, raw, field_name))
    for doc in entry.documents:
        if doc.doc_type.strip().upper().startswith("IMO"):
            add("imo", norm("imo", doc.number, document_field))
    entry.identifiers = found


def load_generic_csv(path: str | Path, *, source: str) -> Iterator[WatchlistEntry]:
    """Read a national or hand-kept list from a CSV with a header row (see GENERIC_COLUMNS).

    Unknown columns are rejected, not ignored, so a misspelt header (``nationalty``) fails loudly
    instead of silently dropping a screening key.
    """
    path = Path(path)
    if not path.is_file():
        raise WatchlistImportError(path, "file", "-", "file not found")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in GENERIC_COLUMNS]
        if unknown:
            raise WatchlistImportError(
                path, "line 1", unknown[0], f"unknown column; allowed: {', '.join(GENERIC_COLUMNS)}"
            )
        for missing in ("id", "name"):
            if missing not in header:
                raise WatchlistImportError(path, "line 1", missing, "required column missing")
        if len(set(header)) != len(header):
            twice = next(h for h in header if header.count(h) > 1)
            raise WatchlistImportError(path, "line 1", twice, "column given twice")
        reader.fieldnames = header
        seen: set[str] = set()
        try:
            for row in reader:
                yield _generic_entry(row, path, reader.line_num, source, seen)
        except csv.Error as exc:
            raise WatchlistImportError(path, f"line {reader.line_num}", "-", f"CSV error: {exc}") from None


def _generic_entry(
    row: dict[str, str | None], path: Path, line: int, source: str, seen: set[str]
) -> WatchlistEntry:
    if None in row:
        raise WatchlistImportError(path, f"line {line}", "-", "more fields than header columns")
    get = {k: (v or "").strip() for k, v in row.items()}
    where = f"line {line}"
    ext = get.get("id", "")
    if not ext:
        raise WatchlistImportError(path, where, "id", "empty")
    if ext in seen:
        raise WatchlistImportError(path, where, "id", f"duplicate id {ext!r}")
    seen.add(ext)
    if not get.get("name"):
        raise WatchlistImportError(path, where, "name", "empty")
    kind = (get.get("kind") or "person").casefold().replace("organization", "organisation")
    if kind not in KINDS:
        raise WatchlistImportError(path, where, "kind", f"unknown kind {kind!r}")
    aliases = []
    for raw in _split(get.get("aliases", "")):
        m = re.fullmatch(r"(.*?)\s*\((weak|strong)\)", raw, re.IGNORECASE)
        aliases.append(Alias(m.group(1), m.group(2).casefold()) if m else Alias(raw))  # type: ignore[arg-type]
    dobs = []
    for raw in _split(get.get("date_of_birth", "")):
        parsed = parse_date_of_birth(raw)
        if not parsed:
            raise WatchlistImportError(path, where, "date_of_birth", f"cannot read date {raw!r}")
        dobs.extend(parsed)
    listed_on = None
    if get.get("listed_on"):
        try:
            listed_on = date.fromisoformat(get["listed_on"])
        except ValueError:
            raise WatchlistImportError(
                path, where, "listed_on", f"not YYYY-MM-DD: {get['listed_on']!r}"
            ) from None
    doc_country = _country_or_raw(get.get("document_country"))
    doc_type = get.get("document_type") or "document"
    entry = WatchlistEntry(
        source=source,
        external_id=f"{source}-{ext}",
        kind=kind,  # type: ignore[arg-type]
        name=get["name"],
        aliases=aliases,
        dates_of_birth=dobs,
        places_of_birth=_split(get.get("place_of_birth", "")),
        nationalities=[c for v in _split(get.get("nationality", "")) if (c := _country_or_raw(v))],
        documents=[Document(doc_type, n, doc_country) for n in _split(get.get("document_number", ""))],
        addresses=[Address(a, None) for a in _split(get.get("address", ""))],
        programmes=_split(get.get("programme", "")),
        remarks=get.get("remarks", ""),
        listed_on=listed_on,
    )
    try:
        apply_keys(
            entry,
            {name: _split(get.get(name, "")) for name in EXTRA_KEY_FIELDS if get.get(name)},
            document_field="document_number",
        )
    except BadEntryKey as exc:
        raise WatchlistImportError(path, where, exc.field_name, exc.problem) from None
    return entry


def load_all(entries: Iterable[Iterable[WatchlistEntry]]) -> list[WatchlistEntry]:
    """Concatenate several importers' output into one list (convenience for building an index)."""
    return [e for source in entries for e in source]
