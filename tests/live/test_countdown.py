"""The board's first paint writes the time to arrival as its script rewrites it every second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.live.templatetags.board import countdown_text

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=2, minutes=5, seconds=40), "in 2 h 05 min"),
        (timedelta(minutes=4, seconds=9), "in 4 min 09 s"),
        (timedelta(seconds=7), "in 7 s"),
        (-timedelta(minutes=12, seconds=30), "arrived 12 min 30 s ago"),
        (-timedelta(hours=26, minutes=1), "arrived 26 h 01 min ago"),
    ],
)
def test_countdown_reads_as_the_live_script_writes_it(delta, text):
    assert countdown_text(NOW + delta, NOW) == text


def test_no_arrival_no_text():
    assert countdown_text(None, NOW) == ""
