"""The floor simulator's clock and tick: plan arrivals, send their data through intake, let staff act.

**Time.** The app lives on the wall clock (``timezone.now()``): arrival times, service-level timers and
examination times are real moments. The simulator compresses the *pace* of a day by ``speed`` (simulated
seconds per real second): at ``--speed 60`` a vessel whose declarations are lodged four hours ahead of
arrival arrives four real minutes after they were sent, and an analyst who takes twenty minutes to
review takes twenty real seconds. Durations inside messages (a flight's length, a booking made two days
before departure) stay realistic, so the rules read realistic facts.

**Idempotence.** A tick does what is due at ``now`` and records it: an arrival is claimed by a
conditional update before its messages are sent (and intake stores a message once anyway), a truth is
stored once, and each staff step is a ``SimAction`` row unique per target and step, written in the same
transaction as the service call. Running the same tick twice changes nothing the second time.

**One simulator.** Whoever ticks holds a lease on the single ``SimState`` row, renewed every tick.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.simulator import generators as gen
from apps.simulator.models import SimArrival, SimState, SubjectTruth

if TYPE_CHECKING:
    from apps.intake.services import PortIndex

log = logging.getLogger("apps.simulator")

#: Port → mean simulated minutes between arrivals (a flight, a vessel, a truck, a mail batch).
TRAFFIC: dict[str, float] = {"GBLHR": 20, "GBMNC": 45, "GBFXT": 150, "GBDVR": 12, "GBCOV": 60}
#: Arrivals are planned this many simulated minutes ahead; longer leads are shortened to it.
HORIZON_MINUTES = 180
#: An unsent arrival this many simulated minutes in the past is skipped (no simulator was running).
STALE_MINUTES = 30
#: Arrivals announced per tick at most (the first tick catches up in a few ticks, not one long one).
ANNOUNCE_PER_TICK = 12
#: Shared labelled declarations replayed (re-dated, labels hidden) in each mail batch.
REPLAY_PER_BATCH = 3
REPLAY_FILE = "declarations/df_syn_valid_eng.csv"
LEASE_SECONDS = 60


@dataclass(slots=True)
class Options:
    """How the simulator runs (``simulate_floor`` options, or ``RATC_SIMULATE_*`` in the server)."""

    seed: int = 2026
    speed: float = 60.0
    tick_seconds: float = 2.0
    history_rows: int = 3000
    setup: bool = True
    staff: bool = True
    reserve_share: float = 0.15
    hands_off_minutes: float = 20.0

    @classmethod
    def from_env(cls, **overrides: Any) -> Options:
        """Options from ``RATC_SIMULATE_SPEED``, ``_SEED``, ``_TICK``, ``_HISTORY`` (bad values stop the start)."""
        options = cls()
        for name, variable, cast in (
            ("speed", "RATC_SIMULATE_SPEED", float),
            ("seed", "RATC_SIMULATE_SEED", int),
            ("tick_seconds", "RATC_SIMULATE_TICK", float),
            ("history_rows", "RATC_SIMULATE_HISTORY", int),
        ):
            raw = os.environ.get(variable)
            if raw:
                try:
                    setattr(options, name, cast(raw))
                except ValueError:
                    raise ValueError(f"{variable}={raw!r} is not a {cast.__name__}") from None
        for name, value in overrides.items():
            if value is not None:
                setattr(options, name, value)
        if options.speed <= 0:
            raise ValueError("the speed must be more than 0 (simulated seconds per real second)")
        return options


@dataclass(slots=True)
class TickReport:
    """What one tick did, for the console and the tests."""

    planned: int = 0
    announced: int = 0
    subjects: int = 0
    skipped: int = 0
    staff: dict[str, int] = field(default_factory=dict)
    reports_refreshed: bool = False

    def __str__(self) -> str:
        acted = ", ".join(f"{k} {v}" for k, v in sorted(self.staff.items()) if v)
        return (
            f"planned {self.planned}, announced {self.announced} ({self.subjects} subjects)"
            + (f", skipped {self.skipped}" if self.skipped else "")
            + (f"; staff: {acted}" if acted else "")
        )


class Floor:
    """The simulated day: ``tick(now)`` does what is due; ``run()`` ticks at the chosen speed."""

    def __init__(
        self,
        options: Options | None = None,
        *,
        clock: Callable[[], datetime] = timezone.now,
        owner: str | None = None,
    ) -> None:
        self.options = options or Options()
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._listed: tuple[gen.Person, str] | bool | None = False
        self._replay: list[dict[str, str]] | None = None

    # --- time ---------------------------------------------------------------------------------------

    def scaled(self, minutes: float) -> timedelta:
        """Real time that ``minutes`` of simulated time take at this speed."""
        return timedelta(minutes=minutes / self.options.speed)

    # --- the lease ----------------------------------------------------------------------------------

    def state(self) -> SimState:
        state = SimState.objects.order_by("pk").first()
        if state is None:
            with transaction.atomic():
                state = SimState.objects.select_for_update().order_by(
                    "pk"
                ).first() or SimState.objects.create(seed=self.options.seed, speed=self.options.speed)
        return state

    def acquire(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; False while another simulator holds an unexpired one."""
        now = now or self.clock()
        state = self.state()
        free = Q(lease_owner="") | Q(lease_owner=self.owner) | Q(lease_until__lt=now) | Q(lease_until=None)
        return bool(
            SimState.objects.filter(free, pk=state.pk).update(
                lease_owner=self.owner,
                lease_until=now + timedelta(seconds=LEASE_SECONDS),
                seed=self.options.seed,
                speed=self.options.speed,
            )
        )

    def release(self) -> None:
        SimState.objects.filter(lease_owner=self.owner).update(lease_owner="", lease_until=None)

    # --- planning -----------------------------------------------------------------------------------

    def listed(self) -> gen.Person | None:
        """The listed traveller (a UN-list name, spelt otherwise), read once from the shared data."""
        if self._listed is False:
            from apps.simulator.setup import shared_data

            path = shared_data() / "watchlists" / "un_consolidated.xml"
            self._listed = gen.listed_person(path, self.options.seed, self.clock().date())
        return self._listed[0] if isinstance(self._listed, tuple) else None

    def replay(self, n: int) -> list[dict[str, str]]:
        """Shared labelled declarations for mail batch ``n`` (none when the file is not there)."""
        if self._replay is None:
            from apps.simulator.setup import shared_data

            path = shared_data() / REPLAY_FILE
            self._replay = gen.replay_rows(path, start=0, count=600) if path.exists() else []
        if not self._replay:
            return []
        start = (n * REPLAY_PER_BATCH) % len(self._replay)
        return [self._replay[(start + i) % len(self._replay)] for i in range(REPLAY_PER_BATCH)]

    def arrival_plan(self, arrival: SimArrival) -> gen.ArrivalPlan:
        """The arrival's messages and truths, made again from its number and time (deterministic)."""
        seed, port, n = self.options.seed, arrival.port, arrival.number
        listed = self.listed() if port == "GBLHR" and n % 40 == 3 else None
        replay = self.replay(n) if port == "GBCOV" else None
        return gen.plan_arrival(seed, port, n, arrival.arrival_at, listed=listed, replay=replay)

    def plan(self, now: datetime) -> int:
        """Plan arrivals up to ``HORIZON_MINUTES`` ahead; returns how many were added."""
        state = self.state()
        cursors = dict(state.cursors)
        horizon = now + self.scaled(HORIZON_MINUTES)
        added = 0
        for port, mean in TRAFFIC.items():
            cursor = cursors.get(port) or {"n": 0, "at": now.isoformat()}
            n, at = int(cursor["n"]), datetime.fromisoformat(cursor["at"])
            at = max(at, now - self.scaled(1))  # after a pause, traffic resumes from now
            rows = []
            while at < horizon:
                rng = gen.rng_for(self.options.seed, port, "gap", n)
                gap = min(max(rng.expovariate(1 / mean), mean * 0.25), mean * 3)
                at = at + self.scaled(gap)
                arrival = SimArrival(key=f"{port}:{n}", port=port, number=n, arrival_at=at, announce_at=at)
                plan = self.arrival_plan(arrival)
                lead = min(plan.lead_minutes, HORIZON_MINUTES)
                arrival.mode, arrival.title = plan.mode, plan.title[:200]
                arrival.announce_at = at - self.scaled(lead)
                rows.append(arrival)
                n += 1
            if rows:
                with transaction.atomic():
                    SimArrival.objects.bulk_create(rows, ignore_conflicts=True)
                added += len(rows)
            cursors[port] = {"n": n, "at": at.isoformat()}
        SimState.objects.filter(pk=state.pk).update(cursors=cursors)
        return added

    # --- announcing ---------------------------------------------------------------------------------

    def announce(self, now: datetime, report: TickReport) -> None:
        """Send the data of every arrival due by ``now`` through the real intake."""
        from apps.intake.services import PortIndex

        stale = SimArrival.objects.filter(
            sent_at=None, skipped=False, arrival_at__lt=now - self.scaled(STALE_MINUTES)
        )
        report.skipped += stale.update(skipped=True)
        due = list(
            SimArrival.objects.filter(sent_at=None, skipped=False, announce_at__lte=now).order_by(
                "announce_at", "pk"
            )[:ANNOUNCE_PER_TICK]
        )
        ports = PortIndex()
        for arrival in due:
            plan = self.arrival_plan(arrival)
            with transaction.atomic():
                if not SimArrival.objects.filter(pk=arrival.pk, sent_at=None).update(sent_at=now):
                    continue  # another tick sent it
                subjects = send_plan(plan, ports)
                SimArrival.objects.filter(pk=arrival.pk).update(subjects=subjects)
            # The risk engine assessed the new subjects when the transaction committed (inline in the
            # embedded mode, on a Celery worker otherwise).
            report.announced += 1
            report.subjects += subjects

    # --- the tick -----------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickReport:
        """Do everything due at ``now`` (default: the clock); safe to repeat."""
        now = now or self.clock()
        report = TickReport()
        report.planned = self.plan(now)
        self.announce(now, report)
        if self.options.staff:
            from apps.simulator.staff import Staff

            report.staff = Staff(self).act(now)
        report.reports_refreshed = self.keep_reports_current()
        SimState.objects.filter(pk=self.state().pk).update(last_tick_at=now, ticks=F("ticks") + 1)
        SimState.objects.filter(lease_owner=self.owner).update(
            lease_until=now + timedelta(seconds=LEASE_SECONDS)
        )
        return report

    def keep_reports_current(self) -> bool:
        """Recount the report's recent days when their minute is up (``apps.reports.stats``).

        On the real stack beat runs ``reports.refresh_daily_stats`` every minute; the embedded mode has
        no beat, and a simulator started as its own command may run beside a server that does not
        refresh, so there it keeps the same schedule (the database says when the last refresh was, so
        the server and the simulator together do not refresh more often). Returns whether it refreshed.
        """
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            return False  # beat and the workers do it
        from apps.reports.stats import refresh_recent_if_due

        return refresh_recent_if_due() is not None

    def run(
        self,
        *,
        stop: threading.Event | None = None,
        duration_minutes: float | None = None,
        once: bool = False,
        echo: Callable[[str], None] | None = None,
    ) -> int:
        """Tick every ``tick_seconds`` until ``stop`` is set, ``duration_minutes`` (simulated) pass, or once.

        Returns the number of ticks made. Errors in one tick are logged and the next tick tries again.
        """
        stop = stop or threading.Event()
        say = echo or log.info
        # Made-up arrivals never go into a live centre's database (raises LiveCentreRefused, which the
        # command shows as its error and the in-server runner logs as the reason it stopped).
        from apps.simulator.guard import ensure_exercise_database

        ensure_exercise_database(what="The floor simulator")
        if self.options.setup:
            from apps.simulator.setup import ensure_setup

            for step, message in ensure_setup(history_rows=self.options.history_rows).items():
                say(f"set-up {step}: {message}")
        started = time.monotonic()
        ticks = 0
        waiting_said = False
        try:
            while not stop.is_set():
                _refresh_connections()
                if self.acquire():
                    waiting_said = False
                    try:
                        report = self.tick()
                        ticks += 1
                        if report.announced or any(report.staff.values()):
                            say(f"tick {ticks}: {report}")
                    except Exception:
                        log.exception("simulator tick failed")
                elif not waiting_said:
                    say("another simulator holds the floor; waiting for its lease to lapse")
                    waiting_said = True
                if once:
                    break
                elapsed = (time.monotonic() - started) * self.options.speed / 60
                if duration_minutes is not None and elapsed >= duration_minutes:
                    break
                stop.wait(self.options.tick_seconds)
        finally:
            self.release()
            _refresh_connections()
        return ticks


def _refresh_connections() -> None:
    """Drop broken or expired connections between ticks, as a request cycle would; never inside an
    enclosing transaction (a test's, or a caller's), where closing would lose the caller's work."""
    if not connection.in_atomic_block:
        close_old_connections()


def gen_parse(parse: Callable[..., Any], payload: gen.Payload) -> Any:
    """Parse a generated payload; a problem is a generator bug, so it is logged loudly (and skipped)."""
    result = parse(payload.data, name=payload.name, fmt=payload.fmt)
    if result.problems:
        log.error("generated %s was refused: %s", payload.name, result.problems[:3])
    return result


def send_plan(plan: gen.ArrivalPlan, ports: PortIndex, *, who: str = "") -> int:
    """Store the plan's hidden truths and send its payloads through the real intake, in the caller's
    transaction (the demo's ticks and the training floor's alike); returns the subjects intake stored.
    ``who`` starts the log lines ("training: ")."""
    from apps.intake.services import default_source_for, parse_payload, store_messages

    SubjectTruth.objects.bulk_create(
        [SubjectTruth(key=key, **truth.as_dict()) for key, truth in plan.truths.items()],
        ignore_conflicts=True,
    )
    subjects = 0
    for payload in plan.payloads:
        source = default_source_for(payload.fmt)
        if source is None:
            log.warning("%sno data source for %s: %s not sent", who, payload.fmt, payload.name)
            continue
        result = gen_parse(parse_payload, payload)
        counts = store_messages(
            source=source, parsed=[(m, payload.name) for m in result.messages], ports=ports
        )
        subjects += counts.subjects
    return subjects
