"""The field catalogue: every fact a rule may name, its type and its meaning, per subject kind.

Rules read ``Subject.facts`` (the flat, normalised fields intake stores) plus three columns of the
subject itself (``port``, ``arrival_at``, ``received_at``) and a few *derived* facts computed here
(``value_per_kg``, ``booking_to_departure_hours``, ``paid_cash``, ``first_time_importer`` ...). A rule
that names a field not listed for its subject kind is refused when it is written, so a typo never
becomes a rule that silently matches nothing.

Types and how values are read (the same in the per-subject and the vectorised path):

``code``      a code (HS code, ISO country, UN/LOCODE, IATA airport): compared upper-cased, trimmed.
``text``      free text (goods description, names): compared lower-cased; ``contains`` for substrings.
``number``    a number (decimal strings are accepted); ``bags_count = 0`` is a number comparison.
``bool``      true/false (also "yes"/"no", "1"/"0").
``date``      a date or date-time in ISO 8601; naive times are taken as UTC. Literals in rules are
              dates (``2025-03-01``) and mean the whole day.
``list``      a list of codes (``route_countries``); ``in (...)`` means "any element is in the list" and
              ``contains "VE"`` means "the list has VE".

A missing value (absent, null, empty string, unparsable) matches no comparison: ``x != 5`` and
``x not in (...)`` are false when x is missing; ``is missing`` asks for it explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CATALOGUE",
    "COMMON",
    "DERIVED",
    "FEED_QUALITY",
    "FIELD_TYPES",
    "Field",
    "coerce",
    "derive_scalar",
    "derive_vectorised",
    "fields_for",
    "lookup",
]

FIELD_TYPES = ("code", "text", "number", "bool", "date", "list")

KINDS = ("consignment", "traveller", "conveyance", "trader")


@dataclass(frozen=True, slots=True)
class Field:
    """One fact: its name in ``Subject.facts``, its type, what it means and whether it is derived."""

    name: str
    type: str
    meaning: str
    derived: bool = False
    example: str = ""


def _f(name: str, type_: str, meaning: str, example: str = "", *, derived: bool = False) -> Field:
    assert type_ in FIELD_TYPES, type_
    return Field(name, type_, meaning, derived, example)


#: Fields every subject has: taken from the Subject row, not from ``facts``.
COMMON: tuple[Field, ...] = (
    _f("port", "code", "UN/LOCODE of the port of entry the subject is routed to", '"GBFXT"'),
    _f("arrival_at", "date", "Expected or actual arrival at the port", "2025-03-01"),
    _f("received_at", "date", "When the data about the subject reached the centre", "2025-03-01"),
    _f("arrival_hour", "number", "Hour of arrival, 0-23 (UTC)", "3", derived=True),
    _f("arrival_weekday", "number", "Day of the week of arrival, 0 Monday ... 6 Sunday", "6", derived=True),
)

CONSIGNMENT: tuple[Field, ...] = (
    _f("hs_code", "code", "Commodity code as declared, digits only (national length)", '"09011100"'),
    _f("hs6", "code", "First six digits of the commodity code (Harmonized System)", '"090111"'),
    _f("hs_chapter", "code", "HS chapter, the first two digits", '"09"'),
    _f("goods_description", "text", "Description of the goods as declared", '"green coffee"'),
    _f("origin_country", "code", "Country of origin of the goods (ISO alpha-2)", '"CO"'),
    _f("dispatch_country", "code", "Country the goods were dispatched from (ISO alpha-2)", '"NL"'),
    _f("destination_country", "code", "Country of destination (ISO alpha-2)", '"GB"'),
    _f("route_countries", "list", "Countries the consignment travelled through, in order", '"PA"'),
    _f("transport_mode", "code", "sea, air, road, rail, post, ...", '"SEA"'),
    _f("declaration_type", "code", "Declaration type, e.g. IMA", '"IMA"'),
    _f("procedure", "code", "Requested and previous procedure code (WCO DE 1/10)", '"4000"'),
    _f("incoterms", "code", "Delivery terms", '"FOB"'),
    _f("declared_value", "number", "Invoice or statistical value in the declaration currency", "12000"),
    _f("currency", "code", "ISO 4217 currency of the declared value", '"USD"'),
    _f("net_mass_kg", "number", "Net mass in kilograms", "1500"),
    _f("gross_mass_kg", "number", "Gross mass in kilograms", "1600"),
    _f("package_count", "number", "Number of packages", "40"),
    _f("item_count", "number", "Number of goods items (lines)", "3"),
    _f("container_count", "number", "Number of containers or ULDs", "1"),
    _f("tax_rate", "number", "Duty rate in percent", "8"),
    _f("importer_id", "code", "Importer identification (EORI, TIN)", '"GB553202734852"'),
    _f("importer_country", "code", "Importer's country", '"GB"'),
    _f("importer_aeo", "bool", "Importer is an authorised economic operator", "true"),
    _f("importer_previous_declarations", "number", "Earlier declarations by the importer", "0"),
    _f("importer_previous_findings", "number", "Earlier examinations of the importer with a finding", "2"),
    # From the trader register, joined when assessed (apps.intake.register).
    _f("importer_in_register", "bool", "The importer is in a trader register", "true"),
    _f("importer_aeo_type", "code", "AEO certificate of the importer: AEOC, AEOS or AEOF", '"AEOF"'),
    _f("importer_penalties", "number", "Penalties the register records against the importer", "1"),
    _f("importer_revocations", "number", "Authorisations of the importer revoked", "0"),
    _f("declarant_id", "code", "Declarant or representative identification", '"GB123"'),
    _f("consignor_name", "text", "Consignor (shipper) name", '"acme trading"'),
    _f("consignor_country", "code", "Consignor's country", '"CO"'),
    _f("consignee_name", "text", "Consignee name", '"acme ltd"'),
    _f("carrier", "code", "Carrier (IATA airline code or shipping line)", '"MSC"'),
    _f("vessel_imo", "code", "IMO number of the vessel carrying the goods", '"9321483"'),
    _f("loading_location", "code", "Place of loading (UN/LOCODE or IATA)", '"COCTG"'),
    _f(
        "value_per_kg",
        "number",
        "declared_value / net_mass_kg (when both are given and mass > 0)",
        "20",
        derived=True,
    ),
    _f("first_time_importer", "bool", "importer_previous_declarations = 0", "true", derived=True),
)

TRAVELLER: tuple[Field, ...] = (
    _f("nationality", "code", "Nationality (ISO alpha-2 or alpha-3 as sent)", '"NL"'),
    _f("sex", "code", "M, F, U or X", '"M"'),
    _f("date_of_birth", "date", "Date of birth", "1990-05-01"),
    _f("age", "number", "Age in whole years on arrival (or on receipt)", "34", derived=True),
    _f("residence_country", "code", "Country of residence", '"ES"'),
    _f("travel_role", "code", "passenger, crew or infant", '"PASSENGER"'),
    _f("document_type", "code", "Travel document type (P passport, I identity card ...)", '"P"'),
    _f("document_country", "code", "Issuing country of the travel document", '"NL"'),
    _f("document_expiry", "date", "Expiry date of the travel document", "2026-01-31"),
    _f("origin_airport", "code", "IATA airport of first departure of the journey", '"BOG"'),
    _f("embarkation", "code", "IATA airport where the traveller boarded the inbound flight", '"MAD"'),
    _f("debarkation", "code", "IATA airport where the traveller leaves the flight", '"LHR"'),
    _f("carrier", "code", "Operating airline (IATA code)", '"IB"'),
    _f("flight_number", "code", "Flight number with carrier prefix", '"IB3166"'),
    _f("route_countries", "list", "Countries of the itinerary's airports, in order", '"CO"'),
    _f("route_airports", "list", "IATA airports of the itinerary, in order", '"BOG"'),
    _f("booking_date", "date", "Date the booking was made", "2025-02-27"),
    _f("departure_at", "date", "Scheduled departure of the inbound flight", "2025-02-28"),
    _f("payment_form", "code", "cash, card, cheque, invoice, other (or the code as sent)", '"CASH"'),
    _f("bags_count", "number", "Checked bags", "0"),
    _f("bags_weight_kg", "number", "Weight of checked bags in kilograms", "23"),
    _f("co_traveller_count", "number", "Other travellers on the same booking", "0"),
    _f("one_way", "bool", "The booking has no return segment", "true"),
    _f("frequent_flyer", "bool", "A frequent-flyer number is given", "false"),
    _f("seat", "code", "Seat number", '"23C"'),
    _f("booking_to_departure_hours", "number", "Hours between booking and departure", "20", derived=True),
    _f("paid_cash", "bool", "payment_form is cash", "true", derived=True),
    _f("document_expires_in_days", "number", "Days from arrival to document expiry", "30", derived=True),
)

CONVEYANCE: tuple[Field, ...] = (
    _f("transport_mode", "code", "sea, air, road, rail", '"SEA"'),
    _f("vessel_imo", "code", "IMO number (vessels)", '"9321483"'),
    _f("vessel_name", "text", "Vessel name", '"maersk kendal"'),
    _f("flag", "code", "Flag state or nationality of the means of transport", '"PA"'),
    _f("carrier", "code", "Operator or airline", '"MSK"'),
    _f("flight_number", "code", "Flight number with carrier prefix (aircraft)", '"BA2490"'),
    _f("registration", "code", "Vehicle or aircraft registration", '"GEUUA"'),
    _f("departure_location", "code", "Last place of departure", '"COCTG"'),
    _f("route_countries", "list", "Countries of call, in order", '"CO"'),
    _f("departure_at", "date", "Departure from the last place of call", "2025-02-20"),
    _f("crew_count", "number", "Crew on board", "21"),
    _f("passenger_count", "number", "Passengers on board", "0"),
    _f("consignment_count", "number", "Consignments carried", "1200"),
)

TRADER: tuple[Field, ...] = (
    _f("trader_id", "code", "Trader identification (EORI, TIN)", '"GB553202734852"'),
    _f("trader_name", "text", "Registered name", '"acme ltd"'),
    _f("trader_country", "code", "Country of establishment", '"GB"'),
    _f("aeo", "bool", "Authorised economic operator", "true"),
    _f("aeo_type", "code", "AEO certificate: AEOC, AEOS or AEOF", '"AEOS"'),
    _f("aeo_status", "code", "AEO certificate status: none, active, suspended, revoked", '"SUSPENDED"'),
    _f("penalties_count", "number", "Penalties recorded in the register", "2"),
    _f("revocations_count", "number", "Authorisations revoked", "1"),
    _f("registered_on", "date", "Date of registration", "2024-11-02"),
    _f("declarations_count", "number", "Declarations lodged to date", "0"),
    _f("examinations_count", "number", "Examinations to date", "4"),
    _f("findings_count", "number", "Examinations with a finding to date", "1"),
    _f("finding_rate", "number", "findings_count / examinations_count", "0.25", derived=True),
)

#: The quality of the feed a record came by (``apps.quality``): a late or incomplete message is itself a
#: risk indicator. Not stored in ``facts``: the quality provider (``apps.quality.indicators``, first in
#: ``apps.risk.providers.PROVIDERS``) adds them to each subject of a batch before the rules run, so a
#: backtest over stored facts finds them missing.
FEED_QUALITY: tuple[Field, ...] = (
    _f("feed_missing_fields", "number", "Fields the law or the rules need that this record lacks", "2"),
    _f("feed_late", "bool", "The data reached the centre after its feed's deadline", "true"),
    _f("feed_late_hours", "number", "Hours past the feed's deadline (0 when on time)", "6"),
    _f(
        "carrier_completeness",
        "number",
        "Percent of the carrier's records on this feed complete (4 weeks)",
        "80",
    ),
    _f("carrier_on_time", "number", "Percent of the carrier's records on this feed on time (4 weeks)", "95"),
)

#: Kind → ordered fields (common first).
CATALOGUE: dict[str, tuple[Field, ...]] = {
    "consignment": COMMON + CONSIGNMENT + FEED_QUALITY,
    "traveller": COMMON + TRAVELLER + FEED_QUALITY,
    "conveyance": COMMON + CONVEYANCE,
    "trader": COMMON + TRADER,
}

_INDEX: dict[str, dict[str, Field]] = {
    kind: {f.name: f for f in fields} for kind, fields in CATALOGUE.items()
}

#: Names of derived fields per kind (computed by :func:`derive_scalar` / :func:`derive_vectorised`).
DERIVED: dict[str, frozenset[str]] = {
    kind: frozenset(f.name for f in fields if f.derived) for kind, fields in CATALOGUE.items()
}


def fields_for(kind: str) -> tuple[Field, ...]:
    """The catalogue for one subject kind (``KeyError`` for an unknown kind)."""
    return CATALOGUE[kind]


def lookup(kind: str, name: str) -> Field | None:
    """The field ``name`` for subjects of ``kind``, or None when the catalogue does not list it."""
    return _INDEX.get(kind, {}).get(name)


def known(kind: str, name: str) -> Field:
    """The field ``name`` of a condition already validated against the catalogue (``KeyError`` if not)."""
    return _INDEX[kind][name]


# --- reading one value ------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}
_DAY = 86400.0


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def coerce_code(value: Any) -> str | None:
    return None if _missing(value) else str(value).strip().upper()


def coerce_text(value: Any) -> str | None:
    return None if _missing(value) else str(value).strip().lower()


def coerce_number(value: Any) -> float:
    """A float, or NaN when missing or not a number (booleans are not numbers)."""
    if _missing(value) or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def coerce_bool(value: Any) -> float:
    """1.0, 0.0 or NaN: booleans are kept as numbers so both paths compare them alike."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and not _missing(value):
        return 1.0 if value == 1 else 0.0 if value == 0 else math.nan
    if isinstance(value, str):
        word = value.strip().lower()
        return 1.0 if word in _TRUE else 0.0 if word in _FALSE else math.nan
    return math.nan


def coerce_date(value: Any) -> float:
    """Seconds since the epoch (UTC), or NaN. Strings are ISO 8601; naive times are UTC."""
    if _missing(value):
        return math.nan
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    stamp = pd.to_datetime(str(value).strip(), format="ISO8601", utc=True, errors="coerce")
    return math.nan if pd.isna(stamp) else stamp.value / 1e9


def coerce_list(value: Any) -> str | None:
    """A list of codes as one canonical string ``"|CO|PA|"`` (None when empty), for both paths."""
    if _missing(value):
        return None
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    codes = [str(v).strip().upper() for v in items if not _missing(v)]
    return "|" + "|".join(codes) + "|" if codes else None


_COERCE = {
    "code": coerce_code,
    "text": coerce_text,
    "number": coerce_number,
    "bool": coerce_bool,
    "date": coerce_date,
    "list": coerce_list,
}


def coerce(field_type: str, value: Any) -> Any:
    """Read one raw fact as its catalogue type (see the module docstring)."""
    return _COERCE[field_type](value)


def coerce_column(field_type: str, column: pd.Series) -> pd.Series:
    """Read a whole column as its type; the same answers as :func:`coerce` on each value.

    Numbers already stored as numbers take the fast path; anything else goes through the scalar reader
    so that both paths agree on odd input. Strings and lists become categoricals, on which the
    evaluator tests each distinct value once.
    """
    if field_type in {"number", "date", "bool"}:
        if field_type == "number" and pd.api.types.is_numeric_dtype(column) and column.dtype != bool:
            values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
            values[~np.isfinite(values)] = np.nan
            return pd.Series(values, index=column.index)
        if field_type == "bool" and column.dtype == bool:
            return pd.Series(column.to_numpy(dtype="float64"), index=column.index)
        if field_type == "date" and pd.api.types.is_datetime64_any_dtype(column.dtype):
            stamps = column if getattr(column.dt, "tz", None) is not None else column.dt.tz_localize("UTC")
            values = stamps.dt.as_unit("ns").astype("int64").to_numpy(dtype="float64") / 1e9
            values[stamps.isna().to_numpy()] = np.nan
            return pd.Series(values, index=column.index)
        if field_type == "date" and (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            stamps = pd.to_datetime(column, format="ISO8601", utc=True, errors="coerce")
            fallback = stamps.isna() & column.notna()
            values = stamps.dt.as_unit("ns").astype("int64").to_numpy(dtype="float64") / 1e9
            values[stamps.isna().to_numpy()] = np.nan
            if fallback.any():  # values that are not strings (date objects): read one by one
                for i in np.flatnonzero(fallback.to_numpy()):
                    values[i] = coerce_date(column.iat[i])
            return pd.Series(values, index=column.index)
        reader = _COERCE[field_type]
        return pd.Series(np.fromiter((reader(v) for v in column), "float64", len(column)), index=column.index)
    reader = _COERCE[field_type]
    if field_type == "list":
        return pd.Series(_lists(column), index=column.index, dtype=object).astype("category")
    # Read each distinct raw value once (a million rows carry a few thousand distinct codes).
    objects = column.to_numpy(dtype=object)
    try:
        mapping = {u: reader(u) for u in pd.unique(objects)}
    except TypeError:  # an unhashable value (a list in a text field): read one by one
        return pd.Series([reader(v) for v in objects], index=column.index, dtype=object).astype("category")
    # ``get``: a NaN read back from ``unique`` may be another NaN object; a NaN is missing anyway.
    values = pd.Series([mapping.get(v) for v in objects], index=column.index, dtype=object)
    return values.astype("category")


def _lists(column: pd.Series) -> list[str | None]:
    """:func:`coerce_list` of each value, each distinct list of strings (or string) read once.

    Lists are unhashable, but a million travellers' routes are a few thousand distinct ones: a list whose
    items are all strings is keyed by their tuple, a string by itself (a tuple never equals a string).
    Anything else (numbers, whose 1, 1.0 and True are equal keys but read differently; missing values;
    nested lists) is read on its own.
    """
    read: dict[str | tuple[str, ...], str | None] = {}
    out: list[str | None] = []
    for value in column:
        kind = type(value)
        if kind is str:
            key: str | tuple[str, ...] = value
        elif (kind is list or kind is tuple) and all(type(item) is str for item in value):
            key = tuple(value)
        else:
            out.append(coerce_list(value))
            continue
        found = read.get(key, read)  # ``read`` itself: not read yet (None is a reading)
        if found is read:
            found = read[key] = coerce_list(value)
        out.append(found)  # type: ignore[arg-type]
    return out


# --- derived facts -------------------------------------------------------------------------------------


def _div(a: float, b: float) -> float:
    return a / b if not (math.isnan(a) or math.isnan(b)) and b > 0 else math.nan


def derive_scalar(kind: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Derived facts of one subject from its typed facts (``coerce``d), unless the subject gives them."""
    out: dict[str, Any] = {}
    arrival = facts.get("arrival_at", math.nan)
    reference = arrival if not math.isnan(arrival) else facts.get("received_at", math.nan)
    if not math.isnan(arrival):
        stamp = pd.Timestamp(arrival, unit="s", tz="UTC")
        out["arrival_hour"], out["arrival_weekday"] = float(stamp.hour), float(stamp.weekday())
    else:
        out["arrival_hour"] = out["arrival_weekday"] = math.nan
    if kind == "consignment":
        out["value_per_kg"] = _div(facts.get("declared_value", math.nan), facts.get("net_mass_kg", math.nan))
        previous = facts.get("importer_previous_declarations", math.nan)
        out["first_time_importer"] = math.nan if math.isnan(previous) else float(previous == 0)
    elif kind == "traveller":
        booked, departs = facts.get("booking_date", math.nan), facts.get("departure_at", math.nan)
        out["booking_to_departure_hours"] = (departs - booked) / 3600.0
        payment = facts.get("payment_form")
        out["paid_cash"] = math.nan if payment is None else float(payment in {"CASH", "CA"})
        born = facts.get("date_of_birth", math.nan)
        out["age"] = (
            math.floor((reference - born) / (365.2425 * _DAY))
            if not math.isnan(reference - born)
            else math.nan
        )
        out["document_expires_in_days"] = (
            math.floor((facts.get("document_expiry", math.nan) - reference) / _DAY)
            if not math.isnan(facts.get("document_expiry", math.nan) - reference)
            else math.nan
        )
    elif kind == "trader":
        out["finding_rate"] = _div(
            facts.get("findings_count", math.nan), facts.get("examinations_count", math.nan)
        )
    return out


def derive_vectorised(kind: str, frame: pd.DataFrame) -> dict[str, pd.Series | np.ndarray]:
    """Derived facts of a whole frame of typed facts; the same answers as :func:`derive_scalar`."""

    def col(name: str) -> np.ndarray:
        if name in frame:
            return frame[name].to_numpy(dtype="float64", na_value=np.nan)
        return np.full(len(frame), np.nan)

    out: dict[str, Any] = {}
    arrival = col("arrival_at")
    reference = np.where(np.isnan(arrival), col("received_at"), arrival)
    stamps = pd.to_datetime(pd.Series(arrival * 1e9, index=frame.index), utc=True, unit="ns")
    out["arrival_hour"] = stamps.dt.hour.to_numpy(dtype="float64", na_value=np.nan)
    out["arrival_weekday"] = stamps.dt.day_of_week.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "consignment":
            value, mass = col("declared_value"), col("net_mass_kg")
            out["value_per_kg"] = np.where(mass > 0, value / np.where(mass > 0, mass, 1.0), np.nan)
            previous = col("importer_previous_declarations")
            out["first_time_importer"] = np.where(np.isnan(previous), np.nan, (previous == 0).astype(float))
        elif kind == "traveller":
            out["booking_to_departure_hours"] = (col("departure_at") - col("booking_date")) / 3600.0
            if "payment_form" in frame:
                payment = frame["payment_form"]
                cash = payment.isin(["CASH", "CA"]).to_numpy()
                out["paid_cash"] = np.where(payment.isna().to_numpy(), np.nan, cash.astype(float))
            else:
                out["paid_cash"] = np.full(len(frame), np.nan)
            out["age"] = np.floor((reference - col("date_of_birth")) / (365.2425 * _DAY))
            out["document_expires_in_days"] = np.floor((col("document_expiry") - reference) / _DAY)
        elif kind == "trader":
            found, examined = col("findings_count"), col("examinations_count")
            out["finding_rate"] = np.where(
                examined > 0, found / np.where(examined > 0, examined, 1.0), np.nan
            )
    return out
