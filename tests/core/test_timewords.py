"""Less than a minute reads "under a minute", not "0 minutes", on every page that says how long ago or how
soon: the officer's home card, a target's arrival, a queue's rows and its oldest target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.template import Context, Template

from apps.core.timewords import lasting, since, until

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def test_under_a_minute_either_way_and_whole_minutes_beyond():
    assert since(NOW - timedelta(seconds=59), NOW) == "under a minute"
    assert until(NOW + timedelta(seconds=1), NOW) == "under a minute"
    assert since(NOW - timedelta(seconds=60), NOW) == "1\xa0minute"
    assert until(NOW + timedelta(hours=2, minutes=5), NOW) == "2\xa0hours, 5\xa0minutes"
    assert until(NOW + timedelta(hours=2, minutes=5), NOW, depth=1) == "2\xa0hours"


def test_the_targeting_filters_and_the_queue_rows_say_it_too():
    rendered = Template(
        "{% load targeting %}{{ soon|time_until:now }}|{{ just|time_since:now }}|{{ none|time_since:now }}"
    ).render(Context({"soon": NOW + timedelta(seconds=20), "just": NOW - timedelta(seconds=5), "now": NOW}))
    assert rendered == "under a minute|under a minute|"

    from apps.targeting.templatetags.targeting import _between

    assert _between(NOW, NOW + timedelta(seconds=30)) == "under a minute"
    assert _between(NOW, NOW + timedelta(minutes=3)) == "3\xa0minutes"


def test_a_length_of_time_reads_in_its_largest_units():
    assert lasting(timedelta(hours=60453.1)) == "6\xa0years, 10\xa0months"
    assert lasting(timedelta(hours=5)) == "5\xa0hours"
    assert lasting(timedelta(minutes=150)) == "2\xa0hours, 30\xa0minutes"
    assert lasting(timedelta(seconds=20)) == lasting(timedelta(seconds=-5)) == "under a minute"
