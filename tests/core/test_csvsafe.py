"""The one CSV writer: no cell of any CSV is a formula to a spreadsheet; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from apps.core import csvsafe


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://127.0.0.1/","x")', '\'=HYPERLINK("http://127.0.0.1/","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
        ("-12", "-12"),
        ("+3.5", "+3.5"),
        ("-1e3", "-1e3"),
        (-12, -12),
        (Decimal("-1.50"), Decimal("-1.50")),
        (None, None),
    ],
)
def test_neutralise(value, written):
    assert csvsafe.neutralise(value) == written


def test_objects_are_written_as_their_text_and_neutralised_too():
    class Label:
        def __str__(self) -> str:
            return "=1+1"

    assert csvsafe.neutralise(Label()) == "'=1+1"


def test_writer_is_a_drop_in_for_csv_writer():
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(["reason", '=HYPERLINK("http://x")', -5, "-5", 1.25])
    writer.writerows([["@x"], ["ok"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["reason", '\'=HYPERLINK("http://x")', "-5", "-5", "1.25"], ["'@x"], ["ok"]]


def test_writerow_returns_what_it_wrote_for_streaming_responses():
    class Echo:
        def write(self, value: str) -> str:
            return value

    assert csvsafe.writer(Echo()).writerow(["=1", "a"]) == "'=1,a\r\n"


def test_dict_writer_neutralises_header_and_values_and_keeps_options():
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=["name", "=x"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerow({"name": "=cmd", "=x": "-3", "extra": "ignored"})
    assert out.getvalue() == "name,'=x\n'=cmd,-3\n"


def test_no_code_writes_csv_but_through_csvsafe():
    """Every CSV in the code base goes through this writer (a new ``csv.writer`` would fail here)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "apps"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "csvsafe.py"
        and any(call in path.read_text() for call in ("csv.writer(", "csv.DictWriter(", "= csv.writer"))
    ]
    assert offenders == [], offenders
