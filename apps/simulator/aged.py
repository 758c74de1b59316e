"""Aged passenger data: flights that landed months ago, so that masking and unmasking can be tried.

Passenger data (API and PNR) is depersonalised after its source's period (six months in the demo
world). A demo that starts today has nothing that old, so its first start sends the API and PNR of a
few past flights through the real intake (parsers, normalisation, linking, the risk engine) and dates
their receipt back to when they would have arrived, since the retention rules read ``received_at``
(``apps.compliance.masking``, ``apply_retention``). Retention then runs once, through its own service,
so the records are masked as they would be on a centre that has run for months. Idempotent: the
messages are named ``aged:…`` and sent once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.simulator import generators as gen

log = logging.getLogger("apps.simulator")

#: (port, days ago) of each past flight: all older than the six months after which passengers are masked.
AGED_FLIGHTS: tuple[tuple[str, int], ...] = (("GBLHR", 190), ("GBMNC", 205), ("GBLHR", 230), ("GBLHR", 260))
#: Flight numbers far from the live simulator's, so no message of a past flight is one of today's.
NUMBER_BASE = 900_000
SEED = 2026
PREFIX = "aged:"
PASSENGER_FORMATS = ("paxlst", "pnrgov")


def ensure_aged_passengers(now: datetime | None = None) -> str:
    """Send the past flights' passenger data through intake, backdated; then apply retention."""
    from apps.compliance.services import apply_retention
    from apps.intake.models import Message, Subject
    from apps.intake.services import PortIndex, default_source_for, parse_payload, store_messages
    from apps.simulator.setup import AGED_REASON, withdraw_historic_targets

    if Message.objects.filter(file_name__startswith=PREFIX).exists():
        return "aged passengers: present"
    now = now or timezone.now()
    ports = PortIndex()
    travellers = 0
    stored: list[tuple[list[int], datetime]] = []
    for i, (port, days) in enumerate(AGED_FLIGHTS):
        arrival = (now - timedelta(days=days)).replace(hour=14, minute=0, second=0, microsecond=0)
        plan = gen.plan_arrival(SEED, port, NUMBER_BASE + i, arrival)
        received = arrival - timedelta(minutes=plan.lead_minutes)  # sent when the flight left
        with transaction.atomic():
            for payload in plan.payloads:
                if payload.fmt not in PASSENGER_FORMATS:
                    continue
                source = default_source_for(payload.fmt)
                if source is None:
                    log.warning("no data source for %s: %s not sent", payload.fmt, payload.name)
                    continue
                result = parse_payload(payload.data, name=payload.name, fmt=payload.fmt)
                if result.problems:
                    log.error("aged %s was refused: %s", payload.name, result.problems[:3])
                name = f"{PREFIX}{payload.name}"
                store_messages(source=source, parsed=[(m, name) for m in result.messages], ports=ports)
                messages = Message.objects.filter(source=source, file_name=name)
                # Received when the flight left, as the retention rules read it.
                messages.update(received_at=received)
                subjects = Subject.objects.filter(message__in=messages.values("pk"))
                subjects.update(received_at=received)
                travellers += subjects.filter(kind="traveller").count()
                stored.append((list(subjects.values_list("pk", flat=True)), received))
    # The engine assessed them after each commit (inline here; on a worker with a broker, later, and
    # then dated today): their assessments are dated back too, and what it nominated is history.
    _date_assessments(stored)
    withdraw_historic_targets(AGED_REASON)
    run = apply_retention()
    return f"aged passengers: {travellers} passenger records of {len(AGED_FLIGHTS)} past flights, {run.masked} masked"


def _date_assessments(stored: list[tuple[list[int], datetime]]) -> None:
    """Assessments made of the past flights' records, dated when those records were received."""
    try:
        from apps.risk.models import Assessment
    except ImportError:  # no risk engine installed: nothing was assessed
        return
    for subject_ids, received in stored:
        Assessment.objects.filter(subject_id__in=subject_ids).update(created_at=received)
