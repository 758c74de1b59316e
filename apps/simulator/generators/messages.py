"""The messages sent about an arrival: EDIFACT PAXLST and PNRGOV, JSON and CSV declarations."""

from __future__ import annotations

import csv
import io
import json
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from apps.core import csvsafe
from apps.simulator.generators.plans import Booking, FlightPlan, Person

EDI_SPECIAL = "?+:'"

# --- EDIFACT ------------------------------------------------------------------------------------------


def _edi(text: str) -> str:
    """Escape the service characters of UNA ``:+.? '`` with the release character."""
    return "".join(f"?{c}" if c in EDI_SPECIAL else c for c in text)


def _envelope(kind: str, sender: str, recipient: str, sent: datetime, ref: str, body: list[str]) -> str:
    """UNA/UNB/UNH ... UNT/UNZ around ``body`` (the segments after UNH), counts filled in."""
    stamp = sent.strftime("%y%m%d:%H%M")
    version = "PAXLST:D:05B:UN:IATA" if kind == "PAXLST" else "PNRGOV:13:1:IA"
    message = [f"UNH+{ref}+{version}", *body]
    segments = [
        "UNA:+.? '",
        f"UNB+UNOA:4+{sender}:ZZ+{recipient}:ZZ+{stamp}+{ref}",
        *(s + "'" for s in message),
        f"UNT+{len(message) + 1}+{ref}'",
        f"UNZ+1+{ref}'",
    ]
    segments[1] += "'"
    return "\n".join(segments) + "\n"


def paxlst(flight: FlightPlan, people: list[Person], *, sent: datetime, ref: str) -> str:
    """An API passenger list (PAXLST D05B, BGM 745) for one flight leg."""
    body = [
        "BGM+745",
        f"NAD+MS+++{_edi(flight.carrier)} API DESK",
        "COM+442079460000:TE",
        f"TDT+20+{flight.carrier}{flight.number}+++{flight.carrier}",
        f"LOC+125+{flight.origin}",
        f"DTM+189:{flight.departure:%y%m%d%H%M}:201",
        f"LOC+87+{flight.destination}",
        f"DTM+232:{flight.arrival:%y%m%d%H%M}:201",
    ]
    for p in people:
        body += [
            f"NAD+FL+++{_edi(p.surname)}:{_edi(p.given)}",
            f"ATT+2++{p.sex}",
            f"DTM+329:{p.born:%y%m%d}",
            f"LOC+178+{flight.origin}",
            f"LOC+179+{flight.destination}",
            f"NAT+2+{p.nationality}",
            f"DOC+P:110:111+{p.document}",
            f"DTM+36:{p.document_expiry:%y%m%d}",
            f"LOC+91+{p.nationality}",
        ]
    body.append(f"CNT+42:{len(people)}")
    return _envelope("PAXLST", flight.carrier, "GBAPI", sent, ref, body)


def _ddmmmyy(day: date) -> str:
    return day.strftime("%d%b%y").upper()


def pnrgov(flight: FlightPlan, bookings: list[Booking], *, sent: datetime, ref: str) -> str:
    """A PNRGOV push (version 13.1) for one flight, one SRC group per booking, itinerary inbound only."""
    tvl = (
        f"TVL+{flight.departure:%d%m%y:%H%M}:{flight.arrival:%d%m%y:%H%M}"
        f"+{flight.origin}+{flight.destination}+{flight.carrier}+{flight.number}"
    )
    body = ["MSG+:22", f"ORG+{flight.carrier}:{flight.origin}", tvl, f"EQN+{len(bookings)}"]
    for b in bookings:
        body += [
            "SRC",
            f"RCI+{flight.carrier}:{b.locator}::{b.created:%d%m%y}:1200",
            f"DAT+700:{b.created:%d%m%y}:1200",
        ]
        for i, p in enumerate(b.people, start=1):
            title = "MR" if p.sex == "M" else "MS"
            body += [
                f"TIF+{_edi(p.surname)}+{_edi(p.given)} {title}:A:{i}",
                f"SSR+DOCS:HK:1:{flight.carrier}:::::/P/{p.nationality}/{p.document}/{p.nationality}/"
                f"{_ddmmmyy(p.born)}/{p.sex}/{_ddmmmyy(p.document_expiry)}/{_edi(p.surname)}/{_edi(p.given)}",
                f"TKT+125{zlib.crc32(f'{b.locator}{i}'.encode()) % 10**10:010d}:T:1",
                f"FOP+{b.payment}:3",
            ]
        body += [f"{tvl}:Y", "RPI+1+HK"]
        for i, (p, bags) in enumerate(zip(b.people, b.bags, strict=True), start=1):
            title = "MR" if p.sex == "M" else "MS"
            body += [
                f"TRI++{i}:::1",
                f"TIF+{_edi(p.surname)}+{_edi(p.given)} {title}:A:{i}",
                f"TBD++{bags}:{bags * 21}:700+++{flight.carrier}:{(i * 7919) % 1000000:06d}::{flight.destination}",
            ]
    return _envelope("PNRGOV", flight.carrier, "GBPIU", sent, ref, body)


# --- Declarations -------------------------------------------------------------------------------------


def declarations_json(declarations: list[dict[str, Any]]) -> bytes:
    """The documented JSON intake body: ``{"declarations": [...]}``."""
    return json.dumps({"declarations": declarations}, indent=1, sort_keys=True).encode()


CSV_HEADER = [
    "Declaration ID", "Date", "Office ID", "Process Type", "Import Type", "Import Use", "Payment Type",
    "Mode of Transport", "Declarant ID", "Importer ID", "Seller ID", "Courier ID", "HS6 Code",
    "Country of Departure", "Country of Origin", "Tax Rate", "Tax Type", "Country of Origin Indicator",
    "Net Mass", "Item Price",
]  # fmt: skip


def declarations_csv(rows: list[dict[str, str]]) -> bytes:
    """Rows in the built-in ``declarations-csv`` layout, without the label columns (truth stays hidden)."""
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=CSV_HEADER, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def replay_rows(path: Path, *, start: int, count: int) -> list[dict[str, str]]:
    """``count`` rows of a shared declarations CSV from row ``start`` (wrapping round), labels included."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return []
    return [rows[(start + i) % len(rows)] for i in range(count)]
