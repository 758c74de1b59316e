"""How long a target may stay undecided (its service level) and how near arrival raises it in a queue.

The Python functions (``Target.sla_status``) and the database expressions (``breach_q``,
``decision_due_expression``, for queues and reports) read the same tables, so a card and a count agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Least

from apps.targeting.models.choices import UNDECIDED_STATES

#: A target still undecided this close to arrival breaches its service level, whatever the table below.
DECISION_LEAD = timedelta(hours=2)
#: Within this of arrival, the timer is shown as "due soon".
DECISION_WARNING = timedelta(hours=6)

#: How long a nomination may stay undecided, by the port's transport mode and the risk area ("_": any
#: other area). Air passengers are nominated from API/PNR a few hours before landing, so minutes count;
#: sea containers are known days before berthing, so days are allowed. A target is breaching once this
#: has passed since nomination, or once it is undecided ``DECISION_LEAD`` before arrival, whichever
#: comes first (``Target.sla_deadline``).
SERVICE_LEVELS: dict[str, dict[str, timedelta]] = {
    "air": {"_": timedelta(minutes=45), "security": timedelta(minutes=20),
            "immigration": timedelta(minutes=30), "people_smuggling": timedelta(minutes=30)},
    "sea": {"_": timedelta(days=2), "security": timedelta(hours=12), "narcotics": timedelta(days=1)},
    "land": {"_": timedelta(hours=2), "security": timedelta(minutes=45)},
    "postal": {"_": timedelta(days=1)},
}  # fmt: skip
#: A target whose port (or its mode) is unknown.
DEFAULT_SERVICE_LEVEL = timedelta(days=1)
#: The last quarter of the allowed time is shown as "due soon".
SERVICE_LEVEL_WARNING_SHARE = 0.25


def service_level(mode: str, risk_area: str) -> timedelta:
    """How long a nomination in ``risk_area`` at a port of transport ``mode`` may stay undecided."""
    levels = SERVICE_LEVELS.get(mode or "", {})
    return levels.get(risk_area, levels.get("_", DEFAULT_SERVICE_LEVEL))


_PORT_MODES: dict[int, str] = {}
_PORT_MODES_READ = [0.0]
_PORT_MODES_TTL = 60.0


def port_mode(port_id: int | None) -> str:
    """The transport mode of a port, from a small in-process map (ports are reference data): a board
    of fifty cards asks the database once, not once per card. Read again after a minute, or on a port
    it does not know yet."""
    import time

    if port_id is None:
        return ""
    stale = time.monotonic() - _PORT_MODES_READ[0] > _PORT_MODES_TTL
    if stale or port_id not in _PORT_MODES:
        from apps.agencies.models import Port

        _PORT_MODES.clear()
        _PORT_MODES.update(Port.objects.values_list("pk", "mode"))
        _PORT_MODES_READ[0] = time.monotonic()
    return _PORT_MODES.get(port_id, "")


def forget_port_modes(**_kwargs: Any) -> None:
    """Drop the map when a port is saved or deleted in this process (other processes read again within
    ``_PORT_MODES_TTL``): a port's key can name another port later (SQLite gives a rolled-back row's
    key to the next new row), and a changed mode should not wait a minute where it was made."""
    _PORT_MODES.clear()


def breach_q(now: datetime) -> Q:
    """Undecided targets past their service level (``Target.sla_status`` == "breached"), as a filter."""
    from apps.agencies.models import TransportMode

    late_by_level = Q(port__isnull=True, created_at__lte=now - DEFAULT_SERVICE_LEVEL)
    for mode in TransportMode.values:
        levels = SERVICE_LEVELS.get(mode, {})
        named = sorted(area for area in levels if area != "_")
        in_mode = Q(created_at__lte=now - levels.get("_", DEFAULT_SERVICE_LEVEL)) & ~Q(risk_area__in=named)
        for area in named:
            in_mode |= Q(risk_area=area, created_at__lte=now - levels[area])
        late_by_level |= Q(port__mode=mode) & in_mode
    return Q(state__in=UNDECIDED_STATES) & (Q(arrival_at__lte=now + DECISION_LEAD) | late_by_level)


def decision_due(
    mode: str, risk_area: str, created_at: datetime | None, arrival_at: datetime | None
) -> datetime | None:
    """When a target's decision is due: its service level after nomination, or ``DECISION_LEAD`` before
    arrival, whichever comes first (None when neither is known). ``Target.sla_deadline`` and the reports'
    queue breaches both read this."""
    times = []
    if created_at is not None:
        times.append(created_at + service_level(mode, risk_area))
    if arrival_at is not None:
        times.append(arrival_at - DECISION_LEAD)
    return min(times) if times else None


def decision_due_expression() -> Any:
    """``decision_due`` as a database expression on targets (for reports that count in SQL)."""
    from django.db.models import DateTimeField, DurationField, ExpressionWrapper
    from django.db.models.functions import Coalesce

    from apps.agencies.models import TransportMode

    def after(level: timedelta) -> Any:
        return ExpressionWrapper(
            F("created_at") + Value(level, DurationField()), output_field=DateTimeField()
        )

    whens = []
    for mode in TransportMode.values:
        levels = SERVICE_LEVELS.get(mode, {})
        for area in sorted(a for a in levels if a != "_"):
            whens.append(When(port__mode=mode, risk_area=area, then=after(levels[area])))
        whens.append(When(port__mode=mode, then=after(levels.get("_", DEFAULT_SERVICE_LEVEL))))
    by_level = Case(*whens, default=after(DEFAULT_SERVICE_LEVEL), output_field=DateTimeField())
    before_arrival = ExpressionWrapper(
        F("arrival_at") - Value(DECISION_LEAD, DurationField()), output_field=DateTimeField()
    )
    # SQLite's two-argument MIN is NULL when either is: an unknown arrival leaves the service level.
    return Least(by_level, Coalesce(before_arrival, by_level), output_field=DateTimeField())


#: How much a queue raises a target's rank as its arrival nears: (arrives within, points added). Only for
#: ordering queues (``with_urgency``, ``urgency_now``); no screen shows the sum as a priority.
URGENCY_STEPS = (
    (timedelta(hours=1), 40),
    (timedelta(hours=4), 25),
    (timedelta(hours=12), 10),
    (timedelta(hours=24), 5),
)
