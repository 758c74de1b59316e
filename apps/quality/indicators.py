"""The feed's quality as facts rules may read: a late or incomplete message is itself a risk indicator.

A risk provider (``apps.risk.providers``), listed before the rules provider. For each traveller or
consignment of the batch it adds, to the subject's facts *in memory* (never saved), the facts of
``apps.risk.fields.FEED_QUALITY``:

- ``feed_missing_fields``: how many facts the law or the live rules need that this record lacks;
- ``feed_late`` and ``feed_late_hours``: whether and by how much it came after its feed's deadline;
- ``carrier_completeness`` and ``carrier_on_time``: its carrier's percentages on the same feed of the
  same source over the last four weeks (``CarrierWeek``), when known.

The rules provider then reads them like any other fact, so ``feed_late = true and hs_chapter = "09"``
is an ordinary rule. It scores nothing itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.quality import measure
from apps.quality.feeds import carrier_of, deadline_of, feed_of, lateness_hours, missing_fields

if TYPE_CHECKING:
    from apps.intake.models import Subject
    from apps.risk.providers import Component

__all__ = ["provider", "quality_facts"]


def quality_facts(subjects: list[Subject]) -> dict[int, dict[str, object]]:
    """Subject id → its feed-quality facts (subjects not from a measured feed are left out)."""
    from apps.intake.models import DataSource

    measured = [s for s in subjects if s.kind in {"traveller", "consignment"} and s.message_id]
    if not measured:
        return {}
    kinds = dict(DataSource.objects.filter(pk__in={s.source_id for s in measured}).values_list("pk", "kind"))
    required = measure.required_by_feed()
    found: dict[int, dict[str, object]] = {}
    keys: dict[int, tuple[int, str, str]] = {}
    for subject in measured:
        facts = subject.facts or {}
        feed = feed_of(kinds.get(subject.source_id, ""), subject.kind, facts)
        if feed is None:
            continue
        late = lateness_hours(deadline_of(feed, facts, subject.arrival_at), subject.received_at)
        values: dict[str, object] = {"feed_missing_fields": len(missing_fields(feed, facts, required[feed]))}
        if late is not None:
            values["feed_late"] = late > 0
            values["feed_late_hours"] = round(late, 2)
        found[subject.pk] = values
        keys[subject.pk] = (subject.source_id, feed, carrier_of(feed, facts))
    rates = measure.recent_rates(keys.values())
    for pk, key in keys.items():
        rate = rates.get(key) or {}
        if rate.get("completeness") is not None:
            found[pk]["carrier_completeness"] = rate["completeness"]
        if rate.get("on_time") is not None:
            found[pk]["carrier_on_time"] = rate["on_time"]
    return found


def provider(subjects: list[Subject]) -> dict[int, list[Component]]:
    """Add the feed-quality facts to each subject of the batch (in memory) for the rules after it."""
    for subject in subjects:
        subject.facts = dict(subject.facts or {})
    by_pk = {s.pk: s for s in subjects}
    for pk, values in quality_facts(subjects).items():
        by_pk[pk].facts.update(values)
    return {}
