"""Which intake format a file is in, decided from its content (the file name is only a tie-break).

Looks at the first few kilobytes only, so detection stays cheap on large files:

* UN/EDIFACT (UNA or UNB first): the message type in the UNH (``PAXLST`` → ``paxlst``, ``PNRGOV`` →
  ``pnrgov``), or in the UNG when the UNH is further away.
* XML: the root element. WCO Data Model declarations (``Declaration`` in a ``wco`` namespace, or any
  wrapper that declares the WCO DEC-DMS namespace) → ``wco-dec``; IATA Cargo-XML ``Waybill`` /
  ``WaybillMessage`` → ``xfwb``, ``HouseWaybill`` / ``HouseWaybillMessage`` → ``xfzb``.
* CSV: the header of the customs import declarations dataset → ``declarations-csv``.
* A trader register: a CSV header naming an operator id, a name and an AEO column → ``traders-csv``;
  JSON whose first key is ``traders`` → ``traders-json``.
"""

from __future__ import annotations

import csv
import io
import re

from lxml import etree

from .edifact import decode
from .traders import looks_like_register

__all__ = ["EDIFACT_MESSAGE_FORMATS", "detect_format"]

EDIFACT_MESSAGE_FORMATS = {"PAXLST": "paxlst", "PNRGOV": "pnrgov"}
XML_ROOTS = {
    "Waybill": "xfwb",
    "WaybillMessage": "xfwb",
    "HouseWaybill": "xfzb",
    "HouseWaybillMessage": "xfzb",
}
DECLARATION_CSV_COLUMNS = {"Declaration ID", "Date", "Office ID", "HS6 Code", "Importer ID"}
_HEAD = 16384
_XML_START = re.compile(rb"^\s*(<\?xml|<!--|<[A-Za-z_])")


# An object with a key, or a list of objects: how a JSON document of declarations begins.
_JSON_START = re.compile(r'\s*(\{\s*"|\[\s*(\{|\]))')


def detect_format(data: bytes, filename: str = "") -> str | None:
    """Return the format name the intake parsers use, or None when the content is not recognised."""
    head = data[:_HEAD]
    text = decode(head.lstrip(b"\xef\xbb\xbf")).lstrip()
    if text.startswith(("UNA", "UNB")):
        return _edifact_format(text)
    if _XML_START.match(head.lstrip(b"\xef\xbb\xbf")):
        return _xml_format(data)
    if looks_like_register(text):  # a trader register (apps/intake/parsers/traders.py)
        return "traders-json" if text.startswith("{") else "traders-csv"
    if _JSON_START.match(text):
        return "json"  # the integrators' JSON declarations (apps/intake/parsers/json_intake.py)
    return _csv_format(text, filename)


def _edifact_format(text: str) -> str | None:
    if text.startswith("UNA") and len(text) >= 9:
        component, element, terminator = text[3], text[4], text[8]
    elif text.startswith("UNB\x1d"):
        component, element, terminator = "\x1f", "\x1d", "\x1c"
    else:
        component, element, terminator = ":", text[3:4] or "+", "'"
    for tag, position in (("UNH", 2), ("UNG", 1)):
        start = text.find(tag + element)
        if start < 0:
            continue
        end = text.find(terminator, start)
        segment = text[start : end if end >= 0 else len(text)]
        parts = segment.split(element)
        if len(parts) > position:
            message_type = parts[position].split(component)[0].strip().upper()
            if message_type in EDIFACT_MESSAGE_FORMATS:
                return EDIFACT_MESSAGE_FORMATS[message_type]
    return None


def _xml_format(data: bytes) -> str | None:
    """The root element decides; the parser resolves no entities and fetches nothing."""
    try:
        events = etree.iterparse(
            io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True, huge_tree=False
        )
        _, root = next(events)
    except (etree.XMLSyntaxError, StopIteration, ValueError):
        return None
    qname = etree.QName(root)
    namespace, local = (qname.namespace or "").lower(), qname.localname
    # Declarations also come wrapped (the DMS MetaData element, a national submit request envelope).
    if ("wco" in namespace and local == "Declaration") or b"WCO:DEC-DMS" in data[:_HEAD]:
        return "wco-dec"
    return XML_ROOTS.get(local)


def _csv_format(text: str, filename: str) -> str | None:
    first_line = text.splitlines()[0] if text else ""
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        return None
    if {h.strip() for h in header} >= DECLARATION_CSV_COLUMNS:
        return "declarations-csv"
    return None
