"""Declarations in CSV (one goods line per row) with a configurable column mapping.

The built-in mapping, format name ``declarations-csv``, is the layout of the Korea Customs synthetic
import declarations (``Declaration ID, Date, Office ID, ..., HS6 Code, ..., Fraud, Critical Fraud``).
Other administrations' extracts differ only in headers, date format and delimiter: describe them with a
``ColumnMapping`` (our field → their header) instead of writing a parser.

Two paths:

* the record path, ``iter_declarations`` / ``parse_declarations_csv``: streams with the ``csv`` module in
  constant memory and yields batches of ``Declaration`` records; every bad row becomes a ``Problem``
  naming file, line and column with the reason, and the good rows carry on;
* the frame path, ``read_declarations_frame``: pandas, column-oriented, for bulk loading (COPY into
  PostgreSQL); the same checks, vectorised; refused rows are left out and listed in
  ``frame.attrs["problems"]``.

Where the label columns are present (``Fraud``, ``Critical Fraud``), each row carries an
``ExaminationLabel(finding = Fraud >= 1, severity = Critical Fraud)``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from apps.intake.parsers.base import ParsedMessage, ParseResult, Problem
from apps.intake.records.cargo import Conveyance, Declaration, ExaminationLabel, GoodsItem, Party

__all__ = [
    "FORMAT",
    "KOREA_CUSTOMS_MAPPING",
    "ColumnMapping",
    "iter_declarations",
    "parse_declarations_csv",
    "read_declarations_frame",
]

FORMAT = "declarations-csv"


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which CSV header holds each of our fields; ``None`` when the layout has no such column.

    ``required`` names the fields a row must have; ``mode_codes`` maps the source's transport-mode
    codes onto ``TRANSPORT_MODES`` words (unmapped codes are kept in ``extra["mode_code"]``).
    """

    declaration_id: str = "Declaration ID"
    date: str | None = "Date"
    office: str | None = "Office ID"
    process_type: str | None = "Process Type"
    import_type: str | None = "Import Type"
    import_use: str | None = "Import Use"
    payment_type: str | None = "Payment Type"
    transport_mode: str | None = "Mode of Transport"
    declarant_id: str | None = "Declarant ID"
    importer_id: str | None = "Importer ID"
    seller_id: str | None = "Seller ID"
    courier_id: str | None = "Courier ID"
    hs_code: str | None = "HS6 Code"
    country_of_departure: str | None = "Country of Departure"
    country_of_origin: str | None = "Country of Origin"
    tax_rate: str | None = "Tax Rate"
    tax_type: str | None = "Tax Type"
    origin_indicator: str | None = "Country of Origin Indicator"
    net_mass: str | None = "Net Mass"
    gross_mass: str | None = None
    item_price: str | None = "Item Price"
    currency: str | None = None
    fraud: str | None = "Fraud"
    critical_fraud: str | None = "Critical Fraud"
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    default_currency: str = ""
    required: tuple[str, ...] = ("declaration_id", "date", "hs_code")
    mode_codes: dict[str, str] = field(default_factory=dict)

    def columns(self) -> dict[str, str]:
        """Our field → header, for the fields this layout has."""
        skip = {"date_format", "delimiter", "encoding", "default_currency", "required", "mode_codes"}
        return {f.name: v for f in fields(self) if f.name not in skip and (v := getattr(self, f.name))}


KOREA_CUSTOMS_MAPPING = ColumnMapping()
"""The layout of /work/shared/data/declarations/*.csv (Jeong et al. 2022, Korea Customs, synthetic)."""

_NUMERIC = ("tax_rate", "net_mass", "gross_mass", "item_price")
_NON_NEGATIVE = ("net_mass", "gross_mass", "item_price")


class _RowError(Exception):
    def __init__(self, column: str, reason: str):
        self.column = column
        self.reason = reason


def _decimal(value: str, column: str, *, non_negative: bool) -> Decimal | None:
    if value == "":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _RowError(column, f"non-numeric value {value!r}") from None
    if not number.is_finite():
        raise _RowError(column, f"non-numeric value {value!r}")
    if non_negative and number < 0:
        raise _RowError(column, f"negative value {value!r}")
    return number


def _label(value: str, column: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise _RowError(column, f"label must be a whole number, got {value!r}") from None
    if number < 0:
        raise _RowError(column, f"label must be 0 or more, got {value!r}")
    return number


def _checked_values(
    values: dict[str, str], m: ColumnMapping, cols: dict[str, str]
) -> tuple[date | None, str, dict[str, Decimal | None], ExaminationLabel | None]:
    """Check one row's values and convert its date, HS code, numbers and label; raise ``_RowError``."""
    for name in m.required:
        if name in cols and not values.get(name):
            raise _RowError(cols[name], "required value is empty")
    decl_date: date | None = None
    if raw_date := values.get("date", ""):
        try:
            decl_date = datetime.strptime(raw_date, m.date_format).date()
        except ValueError:
            raise _RowError(cols["date"], f"bad date {raw_date!r} (expected {m.date_format})") from None
    hs = values.get("hs_code", "")
    if hs and (not hs.isdigit() or not 6 <= len(hs) <= 10):
        raise _RowError(cols["hs_code"], f"HS code {hs!r} is not 6-10 digits")
    numbers = {
        n: _decimal(values.get(n, ""), cols.get(n, n), non_negative=n in _NON_NEGATIVE) for n in _NUMERIC
    }
    for country in ("country_of_departure", "country_of_origin"):
        code = values.get(country, "")
        if code and (len(code) != 2 or not code.isalpha()):
            raise _RowError(cols[country], f"country code {code!r} is not two letters (ISO 3166-1 alpha-2)")
    label = None
    if "fraud" in cols:
        fraud = _label(values.get("fraud", ""), cols["fraud"])
        severity = _label(
            values.get("critical_fraud", "0") or "0", cols.get("critical_fraud", "Critical Fraud")
        )
        label = ExaminationLabel(finding=fraud >= 1, severity=severity)
    return decl_date, hs, numbers, label


def _row_to_declaration(
    values: dict[str, str], m: ColumnMapping, cols: dict[str, str], line: int
) -> Declaration:
    """Build one Declaration from ``values`` (our field → raw string); raise ``_RowError`` on bad data."""
    decl_date, hs, numbers, label = _checked_values(values, m, cols)
    decl_id = values["declaration_id"]
    currency = (values.get("currency") or m.default_currency).upper()
    item = GoodsItem(
        sequence=1,
        net_mass_kg=numbers["net_mass"],
        gross_mass_kg=numbers["gross_mass"],
        value=numbers["item_price"],
        currency=currency,
        origin_country=values.get("country_of_origin", "").upper(),
        tax_rate=numbers["tax_rate"],
        tax_type=values.get("tax_type", ""),
        preference=values.get("origin_indicator", ""),
    )
    item.set_hs(hs)
    parties = [
        Party(role=role, identifier=values[key])
        for key, role in (
            ("declarant_id", "declarant"),
            ("importer_id", "importer"),
            ("seller_id", "seller"),
            ("courier_id", "courier"),
        )
        if values.get(key)
    ]
    extra = {
        k: values[k]
        for k in ("process_type", "import_type", "import_use", "payment_type", "origin_indicator")
        if values.get(k)
    }
    conveyances = []
    if mode_code := values.get("transport_mode", ""):
        conveyances.append(Conveyance(mode=m.mode_codes.get(mode_code, "unknown"), identifier_type=mode_code))
        extra["mode_code"] = mode_code
    return Declaration(
        reference=decl_id,
        business_key=decl_id,
        declaration_type=values.get("import_type", ""),
        procedure=values.get("process_type", ""),
        office_of_import=values.get("office", ""),
        declaration_date=decl_date,
        item_count=1,
        invoice_amount=numbers["item_price"],
        currency=currency,
        country_of_dispatch=values.get("country_of_departure", "").upper(),
        parties=parties,
        goods=[item],
        conveyances=conveyances,
        label=label,
        source_line=line,
        extra=extra,
    )


def _open_text(source: str | Path | bytes | IO[str] | IO[bytes], encoding: str) -> tuple[IO[str], bool]:
    if isinstance(source, bytes):
        return io.StringIO(source.decode(encoding, errors="replace"), newline=""), True
    if isinstance(source, str | Path):
        return open(source, encoding=encoding, errors="replace", newline=""), True
    if isinstance(source, io.TextIOBase):
        return source, False
    # What is left is a binary stream (an upload): IO[str] was returned above as a TextIOBase.
    return io.TextIOWrapper(source, encoding=encoding, errors="replace", newline=""), False  # type: ignore[type-var]


def iter_declarations(
    source: str | Path | bytes | IO[str] | IO[bytes],
    *,
    file: str,
    mapping: ColumnMapping = KOREA_CUSTOMS_MAPPING,
    batch_size: int = 5000,
) -> Iterator[tuple[list[Declaration], list[Problem]]]:
    """Stream ``source`` and yield ``(declarations, problems)`` batches of at most ``batch_size`` rows.

    Memory stays constant whatever the file size. A header that lacks a mapped required column stops
    the file with one problem (nothing else can be read correctly); a bad row is reported and skipped.
    """
    handle, owned = _open_text(source, mapping.encoding)
    try:
        reader = csv.reader(handle, delimiter=mapping.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            yield [], [Problem(file, "line 1", "empty file: no header row")]
            return
        except csv.Error as exc:
            yield [], [Problem(file, "line 1", f"unreadable CSV header: {exc}")]
            return
        header = [h.strip() for h in header]
        position = {h: i for i, h in enumerate(header)}
        wanted = mapping.columns()
        missing = [h for name, h in wanted.items() if h not in position and name in mapping.required]
        if missing:
            yield [], [Problem(file, "line 1", f"missing required column(s): {', '.join(missing)}")]
            return
        cols = {name: h for name, h in wanted.items() if h in position}
        index = [(name, position[h]) for name, h in cols.items()]
        width = len(header)
        batch: list[Declaration] = []
        problems: list[Problem] = []
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(Problem(file, f"line {reader.line_num}", f"malformed CSV: {exc}"))
                continue
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != width:
                problems.append(
                    Problem(file, f"line {line}", f"row has {len(row)} fields, the header has {width}")
                )
                continue
            values = {name: row[i].strip() for name, i in index}
            try:
                batch.append(_row_to_declaration(values, mapping, cols, line))
            except _RowError as err:
                problems.append(Problem(file, f"line {line}, column {err.column!r}", err.reason))
            if len(batch) >= batch_size:
                yield batch, problems
                batch, problems = [], []
        if batch or problems:
            yield batch, problems
    finally:
        if owned:
            handle.close()


def _row_key(d: Declaration) -> str:
    g = d.goods[0]
    basis = "|".join(
        str(x)
        for x in (
            d.reference,
            d.declaration_date,
            g.hs_code,
            g.value,
            g.net_mass_kg,
            g.origin_country,
            *(p.identifier for p in d.parties),
        )
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:24]


def parse_declarations_csv(
    data: bytes | str | Path | IO[bytes], *, file: str, mapping: ColumnMapping = KOREA_CUSTOMS_MAPPING
) -> ParseResult:
    """Parse a whole CSV into one ``ParseResult``: one ``ParsedMessage`` per good row, problems per bad row.

    For very large files prefer ``iter_declarations`` (batches) or ``read_declarations_frame``.
    """
    result = ParseResult(file=file, format=FORMAT)
    for batch, problems in iter_declarations(data, file=file, mapping=mapping):
        result.problems.extend(problems)
        for d in batch:
            result.messages.append(
                ParsedMessage(
                    kind=FORMAT,
                    message_key=f"{FORMAT}:{d.reference}:{_row_key(d)}",
                    version_key=d.business_key,
                    records=[d],
                )
            )
    return result


def read_declarations_frame(
    path: str | Path | IO[Any], mapping: ColumnMapping = KOREA_CUSTOMS_MAPPING, *, file: str | None = None
) -> Any:
    """Read a declarations CSV column-wise into a pandas DataFrame with our field names, for bulk COPY.

    Columns: our field names (``declaration_id``, ``date`` as datetime64, ``hs_code`` as string with
    leading zeros kept, ``hs6``, ``hs_chapter``, numbers as float64, ``label_finding`` (bool) and
    ``label_severity`` (int) when the label columns exist) plus ``source_line``. Rows that fail the same
    checks as the record path are dropped and described in ``frame.attrs["problems"]`` (``Problem``
    objects naming line and column). Assumes one physical line per row, true of machine-made extracts.
    """
    import pandas as pd

    cols = mapping.columns()
    header = pd.read_csv(path, nrows=0, sep=mapping.delimiter, encoding=mapping.encoding).columns
    if hasattr(path, "seek"):
        path.seek(0)
    present = {name: h for name, h in cols.items() if h in header}
    file = file or str(getattr(path, "name", path))
    missing = [cols[n] for n in mapping.required if n in cols and n not in present]
    if missing:
        frame = pd.DataFrame()
        frame.attrs["problems"] = [
            Problem(file, "line 1", f"missing required column(s): {', '.join(missing)}")
        ]
        return frame
    frame = pd.read_csv(
        path,
        sep=mapping.delimiter,
        encoding=mapping.encoding,
        usecols=list(present.values()),
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        engine="c",
    )
    frame = frame.rename(columns={h: n for n, h in present.items()})
    frame["source_line"] = frame.index + 2
    rejections = _Rejections(frame.index)
    _check_frame_values(frame, present, mapping, rejections)
    _check_frame_labels(frame, present, rejections)
    rejected = rejections.rows()
    problems = rejections.problems(frame, file)
    frame = frame.loc[~rejected].reset_index(drop=True)
    frame.attrs["problems"] = problems
    return frame


class _Rejections:
    """Per row, the first column and reason that refuse it (the frame path's ``_RowError``)."""

    def __init__(self, index: Any) -> None:
        import pandas as pd

        self.reason = pd.Series("", index=index, dtype=object)
        self.column = pd.Series("", index=index, dtype=object)

    def flag(self, mask: Any, column: str, reason: Any) -> None:
        """Refuse the rows in ``mask`` not refused yet, for ``reason`` (a string or one per row)."""
        import pandas as pd

        new = mask & (self.reason == "")
        self.reason.loc[new] = reason[new] if isinstance(reason, pd.Series) else reason
        self.column.loc[new] = column

    def rows(self) -> Any:
        """A mask of the refused rows."""
        return self.reason != ""

    def problems(self, frame: Any, file: str) -> list[Problem]:
        """One problem per refused row, naming its line and column."""
        rejected = self.rows()
        return [
            Problem(file, f"line {line}, column {col!r}", reason)
            for line, col, reason in zip(
                frame.loc[rejected, "source_line"], self.column[rejected], self.reason[rejected], strict=True
            )
        ]


def _check_frame_values(
    frame: Any, present: dict[str, str], mapping: ColumnMapping, rej: _Rejections
) -> None:
    """Vectorised checks and conversions of required values, date, HS code, countries and numbers."""
    import pandas as pd

    for name in mapping.required:
        if name in present:
            rej.flag(frame[name].str.strip() == "", present[name], "required value is empty")
    if "date" in present:
        parsed = pd.to_datetime(frame["date"], format=mapping.date_format, errors="coerce")
        rej.flag(
            parsed.isna() & (frame["date"] != ""), present["date"], "bad date " + frame["date"].map(repr)
        )
        frame["date"] = parsed
    if "hs_code" in present:
        hs = frame["hs_code"].str.strip()
        ok = hs.str.fullmatch(r"\d{6,10}") | (hs == "")
        rej.flag(~ok, present["hs_code"], "HS code " + hs.map(repr) + " is not 6-10 digits")
        frame["hs_code"] = hs
        frame["hs6"] = hs.str[:6]
        frame["hs_chapter"] = hs.str[:2]
    for name in ("country_of_departure", "country_of_origin"):
        if name in present:
            code = frame[name].str.strip().str.upper()
            rej.flag(
                ~(code.str.fullmatch(r"[A-Z]{2}") | (code == "")),
                present[name],
                "country code " + frame[name].map(repr) + " is not two letters (ISO 3166-1 alpha-2)",
            )
            frame[name] = code
    for name in _NUMERIC:
        if name in present:
            raw = frame[name].str.strip()
            num = pd.to_numeric(raw, errors="coerce")
            rej.flag(num.isna() & (raw != ""), present[name], "non-numeric value " + raw.map(repr))
            if name in _NON_NEGATIVE:
                rej.flag(num < 0, present[name], "negative value " + raw.map(repr))
            frame[name] = num


def _check_frame_labels(frame: Any, present: dict[str, str], rej: _Rejections) -> None:
    """Vectorised check of the label columns, into ``label_finding`` and ``label_severity``."""
    import pandas as pd

    if "fraud" not in present:
        return
    fraud = pd.to_numeric(frame["fraud"], errors="coerce")
    rej.flag(fraud.isna(), present["fraud"], "label must be a whole number, got " + frame["fraud"].map(repr))
    severity = (
        pd.to_numeric(frame["critical_fraud"].replace("", "0"), errors="coerce")
        if "critical_fraud" in present
        else pd.Series(0, index=frame.index)
    )
    if "critical_fraud" in present:
        rej.flag(
            severity.isna(),
            present["critical_fraud"],
            "label must be a whole number, got " + frame["critical_fraud"].map(repr),
        )
    frame["label_finding"] = fraud.fillna(0) >= 1
    frame["label_severity"] = severity.fillna(0).astype("int64")


def count_rows(paths: Iterable[str | Path]) -> int:
    """Data rows across ``paths`` (header excluded), for progress bars before a bulk load."""
    total = 0
    for p in paths:
        with open(p, "rb") as fh:
            total += max(sum(1 for _ in fh) - 1, 0)
    return total
