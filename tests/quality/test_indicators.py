"""Rules can use a feed's quality: a late or incomplete message is itself a risk indicator."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.risk.fields import lookup
from apps.risk.models import Hit
from apps.risk.services import assess_subjects
from tests.quality.conftest import message, traveller
from tests.risk.conftest import write_rule


def test_a_rule_on_lateness_and_carrier_completeness_fires_on_late_data(world, api_source, risk_manager):
    from apps.quality import measure

    assert (
        lookup("traveller", "feed_late") is not None
        and lookup("consignment", "feed_missing_fields") is not None
    )
    now = timezone.now()
    msg = message(api_source)
    # The carrier's earlier records: half of them complete.
    traveller(
        api_source,
        msg,
        carrier="LT",
        flight="LT1",
        departure=now + dt.timedelta(hours=9),
        received=now - dt.timedelta(hours=1),
    )
    traveller(api_source, msg, carrier="LT", flight="LT1", departure=now + dt.timedelta(hours=9),
              received=now - dt.timedelta(hours=1), drop=("sex",))  # fmt: skip
    measure.refresh()
    late = traveller(api_source, msg, carrier="LT", flight="LT2", departure=now - dt.timedelta(hours=3),
                     received=now, drop=("document_number",))  # fmt: skip
    on_time = traveller(
        api_source, msg, carrier="LT", flight="LT3", departure=now + dt.timedelta(hours=3), received=now
    )
    write_rule(
        risk_manager,
        "feed_late = true and feed_late_hours >= 2 and feed_missing_fields >= 1 and carrier_completeness < 60",
        state="active", name="Late, incomplete API", subject_kind="traveller", risk_area="immigration",
    )  # fmt: skip
    assess_subjects([late.pk, on_time.pk])
    hits = Hit.objects.filter(rule__name="Late, incomplete API")
    assert [h.assessment.subject_id for h in hits] == [late.pk]
    matched = hits.get().matched
    assert matched["feed_late"] is True and matched["feed_missing_fields"] == 1
    assert matched["carrier_completeness"] == 50.0
    late.refresh_from_db()
    assert "feed_late" not in late.facts  # added for the assessment only, never stored
