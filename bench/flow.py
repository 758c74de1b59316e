"""Benchmark of the analyst's flow, step by step, on the demo world grown to a million subjects (issue 17).

One pass of the flow, as the people on the floor make it, from a rule hit to the result on the target
page: the floor board; the assessments list; the rule page with its recent hits; the assessment; the
subject; the nomination form and the nomination (POST, the analyst); the target page; review and
submission (POSTs, the analyst); approval (POST, the supervisor: another person); dispatch with an
instruction (POST, the supervisor); the tablet's instruction list and the instruction (the port's
officer); the result with a photo (POST, multipart); the target page with the result card; the report
page (the manager); the header search; and ``/healthz`` as the baseline, in every pass.

Each pass takes a fresh subject (assessed, with a rule hit, never targeted, the latest arrivals first:
``bench.flow_world`` makes a pool of them arriving in the next two days), so that every POST moves a
real target one step. ``--warmup`` passes are not counted, then
``--samples`` passes are: each step's p95 (nearest rank) is its figure; goal < 150 ms per step. A
step whose URL does not resolve (a page not built yet) is reported ``skipped`` with the reason; a
step that fails (an error page, a move that did not happen) counts as an error and blocks the steps
that need it in that pass. Beside each p95: the p50, the ratio to ``/healthz``'s p95, and the p50 of
this process's CPU time (Python and templates, not the database's), which other programs on a shared
machine do not inflate as they inflate the wall time. Then one more pass records every step's queries
(Django's ``CaptureQueriesContext``): the step's time, the queries' count and total time, the rest
(Python, templates) and the three slowest queries; with ``--explain``, the plan (``EXPLAIN ANALYZE``)
of each missed step's slowest query on stderr.

Server time, measured in-process: each request goes through Django's whole handler (middleware,
sessions, the personal-data gate and its access log, views, templates, the commit and what runs on
it: live events to the Redis channel layer when ``REDIS_URL`` is set) with ``django.test.Client`` and
DEBUG off; no network, no ASGI server. Celery tasks are queued, not run (workers run them in
production). One person at a time: this is the latency of each step, not a load test (see
``bench.targeting`` for that).

The world: ``bench.flow_world`` (the demo, the simulator's set-up and a stretch of simulated floor,
then copies loaded with COPY up to ``--subjects``). A fresh database ``test_<name>_bench_flow`` is made
and dropped; ``--keep`` keeps it and reuses it next time (each run consumes ~50 of its fresh subjects;
about 600 are made).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ratc_ops REDIS_URL=redis://127.0.0.1:6379/0 python -m bench.flow
    DATABASE_URL=... python -m bench.flow --subjects 50000 --keep      # quick, and kept for the next run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bench.serving import percentile

GOAL_MS = 150.0
ROOT = Path(__file__).resolve().parent.parent
#: The steps in the order a pass makes them: (name, who, what it is).
STEPS: list[tuple[str, str, str]] = [
    ("floor_board", "analyst", "GET the national floor board"),
    ("assessments_list", "analyst", "GET the assessments list"),
    ("rule_recent_hits", "analyst", "GET the rule page that fired, with its recent hits"),
    ("assessment_page", "analyst", "GET the assessment"),
    ("subject_page", "analyst", "GET the subject"),
    ("nominate_form", "analyst", "GET the nomination form, from the assessment"),
    ("nominate", "analyst", "POST the nomination"),
    ("target_page", "analyst", "GET the new target"),
    ("start_review", "analyst", "POST start review"),
    ("submit_for_approval", "analyst", "POST submit for approval"),
    ("approve", "supervisor", "POST approve (another person)"),
    ("dispatch", "supervisor", "POST dispatch with an instruction"),
    ("tablet_list", "officer", "GET the tablet's instruction list at the port"),
    ("tablet_instruction", "officer", "GET the instruction on the tablet"),
    ("record_result", "officer", "POST the result with a photo (multipart)"),
    ("target_page_with_result", "analyst", "GET the target page with the result card"),
    ("reports_page", "manager", "GET the report page"),
    ("search", "analyst", "GET the header search"),
    ("healthz", "analyst", "GET /healthz (baseline)"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--subjects", type=int, default=1_000_000, help="grow the world to this many subjects"
    )
    parser.add_argument("--samples", type=int, default=40, help="counted passes of the flow (at least 30)")
    parser.add_argument("--warmup", type=int, default=3, help="passes made first and not counted")
    parser.add_argument("--ticks", type=int, default=10, help="ticks of the simulated floor before growing")
    parser.add_argument(
        "--target-share", type=float, default=0.007, help="share of copies targeted (~0.5 %% of subjects)"
    )
    parser.add_argument("--pool", type=int, default=600, help="fresh subjects made for the flow to nominate")
    parser.add_argument("--batch", type=int, default=50_000, help="subjects per COPY batch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database; reuse it when loaded")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE each missed step's slowest query"
    )
    return parser.parse_args()


def say(message: str) -> None:
    """Progress, on stderr: stdout carries the one JSON object."""
    print(f"[bench.flow {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------- the cases


@dataclass
class Case:
    """What one pass works on: a fresh subject, its assessment, the rule that fired, the port's officer."""

    subject_id: int
    assessment_id: int
    rule_id: int | None
    risk_area: str
    port_id: int
    officer: str
    query: str


def pick_cases(count: int) -> list[Case]:
    """``count`` subjects nobody has targeted, at a port with an officer, assessed, without watchlist
    hits; those with an active rule hit first (the flow starts from a hit), the latest arrivals first."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Exists, F, OuterRef
    from django.utils import timezone

    from apps.agencies.models import Membership
    from apps.risk.models import Assessment, Hit
    from apps.targeting.models import RiskArea, Target
    from apps.watchlists.models import WatchlistHit

    analyst = get_user_model().objects.get(username="analyst")
    officers: dict[int, str] = {}
    for m in Membership.objects.filter(role="frontline", user__username__startswith="officer.").order_by(
        "user__username"
    ):
        for port_id in m.ports.values_list("pk", flat=True):
            officers.setdefault(port_id, m.user.username)
    now = timezone.now()
    fresh = (
        Assessment.objects.visible_to(analyst)
        .filter(
            subject__arrival_at__gt=now - timedelta(days=7),  # coming soon first; a kept world ages
            subject__port_id__in=list(officers),
            subject__kind__in=["consignment", "traveller"],
            subject__status="current",
        )
        .exclude(Exists(Target.objects.filter(subject_id=OuterRef("subject_id"))))
        .exclude(Exists(WatchlistHit.objects.filter(subject_id=OuterRef("subject_id"))))
        .annotate(fired=Exists(Hit.objects.filter(assessment_id=OuterRef("pk"), shadow=False)))
        .order_by("-fired", F("subject__arrival_at").desc(), "-pk")
        .values(
            "pk", "subject_id", "risk_area", "fired", "subject__port_id", "subject__kind", "subject__facts"
        )
    )
    busiest_rule = (
        Hit.objects.filter(shadow=False)
        .values("rule_id")
        .order_by()
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )  # for a subject without a hit of its own: the rule page an analyst opens most
    cases, seen = [], set()
    for row in fresh[: count * 3]:
        if row["subject_id"] in seen:
            continue
        seen.add(row["subject_id"])
        hit = (
            Hit.objects.filter(assessment_id=row["pk"], shadow=False).values("rule_id", "risk_area").first()
            if row["fired"]
            else None
        )
        area = next(
            (a for a in ((hit or {}).get("risk_area"), row["risk_area"]) if a in RiskArea.values), "narcotics"
        )
        facts = row["subject__facts"] or {}
        query = facts.get("surname") or facts.get("declaration_id") or facts.get("importer_id") or "GB"
        cases.append(
            Case(
                subject_id=row["subject_id"], assessment_id=row["pk"],
                rule_id=(hit or {}).get("rule_id") or (busiest_rule or {}).get("rule_id"), risk_area=area,
                port_id=row["subject__port_id"], officer=officers[row["subject__port_id"]], query=str(query),
            )
        )  # fmt: skip
        if len(cases) == count:
            break
    return cases


# ----------------------------------------------------------------------------------------- the flow


class Skipped(Exception):
    """A step's URL does not resolve: the page is not there (yet)."""


class Failed(Exception):
    """A step answered with an error, or its move did not happen."""


def photo_bytes() -> bytes:
    """A small JPEG, as a tablet camera's photo shrunk for upload (about 60 KB)."""
    from PIL import Image

    image = Image.effect_noise((800, 600), 48).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


class Flow:
    """Signed-in clients for the people of the flow; one pass per case, each step timed."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from apps.compliance.services import SESSION_KEY

        self.clients: dict[str, Any] = {}
        users = get_user_model().objects
        purposes = {"officer": "examination"}
        officers = sorted(users.filter(username__startswith="officer.").values_list("username", flat=True))
        for username in ["analyst", "supervisor", "manager", *officers]:
            client = Client(
                raise_request_exception=False
            )  # a view's crash is a step's error (500), not the bench's
            client.force_login(users.get(username=username))
            session = client.session
            # The purpose of access is asked once per session (the gate); declared here as a person would.
            session[SESSION_KEY] = {"code": purposes.get(username.split(".")[0], "risk_analysis"), "text": ""}
            session.save()
            self.clients[username] = client
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.skipped: dict[str, str] = {}
        self.told: set[str] = set()
        self.urls: dict[str, str] = {}
        self.photo = photo_bytes()
        self.recording = False
        self.capturing = False
        self.queries: dict[str, list[dict[str, Any]]] = {}
        self.elapsed: dict[str, tuple[float, float]] = {}
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.walls: dict[str, float] = {}  # the recorded pass's time per step

    # --- helpers ----------------------------------------------------------------------------------

    def url(self, step: str, name: str, *args: Any, query: str = "") -> str:
        """The path of a named URL; a name that does not resolve skips the step (its page is not built)."""
        from django.urls import NoReverseMatch, reverse

        try:
            path = reverse(name, args=args)
        except NoReverseMatch:
            self.skipped[step] = f"URL {name!r} does not resolve (not built yet?)"
            raise Skipped(step) from None
        return path + (f"?{query}" if query else "")

    def request(
        self, step: str, who: str, method: str, path: str, data: Any = None, expect: int = 200, **headers: str
    ) -> Any:
        """One timed request as ``who``; an unexpected status fails the step."""
        send = self.clients[who].get if method == "GET" else self.clients[who].post
        self.urls.setdefault(step, f"{method} {path}")  # the first one, as an example
        if self.capturing:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                started, cpu = time.perf_counter(), time.process_time()
                response = send(path, data, **headers)
                elapsed = (time.perf_counter() - started) * 1000
            self.queries[step] = [
                {"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in captured.captured_queries
            ]
            self.walls[step] = elapsed
        else:
            started, cpu = time.perf_counter(), time.process_time()
            response = send(path, data, **headers)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            where = f" to {response.get('Location')}" if response.status_code in (301, 302) else ""
            said = (
                response.content[:300].decode(errors="replace")
                if "json" in response.get("Content-Type", "")
                else ""
            )
            raise Failed(f"HTTP {response.status_code}{where} for {method} {path} {said}".strip())
        # Counted by ``step`` once the step has done what it should; the CPU time is this process's
        # (Python, templates; not the database's), which other programs on the machine do not inflate.
        self.elapsed[step] = (elapsed, (time.process_time() - cpu) * 1000)
        return response

    def step(self, name: str, run: Callable[[], Any], *, needed: bool = False) -> Any:
        """Run one step. A skipped one is left out; a failed one is counted (and told the first time),
        and ends the target's part of the pass when what follows ``needed`` it (a move of the target)."""
        if name in self.skipped:
            return None
        try:
            done = run()
        except Skipped:
            return None
        except Failed as error:
            self.elapsed.pop(name, None)
            if name not in self.told:
                self.told.add(name)
                say(f"{name} failed: {error}")
            if self.recording:
                self.errors[name].append(str(error)[:300])
            if needed:
                raise
            return None
        elapsed = self.elapsed.pop(name, None)
        if self.recording and elapsed is not None:
            self.times[name].append(elapsed[0])
            self.cpu[name].append(elapsed[1])
        return done

    def page(self, step: str, who: str, name: str, *args: Any, query: str = "") -> None:
        """A GET step: the page at a named URL."""
        self.step(step, lambda: self.request(step, who, "GET", self.url(step, name, *args, query=query)))

    # --- one pass ---------------------------------------------------------------------------------

    def run(self, case: Case) -> None:
        """One pass of the flow on ``case``. A failed move ends the target's part of it (what follows
        needs it); the report, the search and ``/healthz`` are asked in every pass."""
        with contextlib.suppress(Failed):
            self._target_part(case)
        self.page("reports_page", "manager", "reports:home")
        self.page("search", "analyst", "core:search", query=urlencode({"q": case.query}))
        self.page("healthz", "analyst", "healthz")

    def _target_part(self, case: Case) -> None:
        from apps.frontline.models import ExaminationResult
        from apps.targeting.models import Instruction, Target

        self.page("floor_board", "analyst", "live:floor")
        self.page("assessments_list", "analyst", "risk:assessments")
        if case.rule_id:
            self.page("rule_recent_hits", "analyst", "risk:rule", case.rule_id)
        self.page("assessment_page", "analyst", "risk:assessment", case.assessment_id)
        self.page("subject_page", "analyst", "intake:subject", case.subject_id)
        from_assessment = f"assessment={case.assessment_id}"
        self.page("nominate_form", "analyst", "targeting:nominate", case.subject_id, query=from_assessment)
        nomination = {
            "risk_area": case.risk_area, "priority": "75", "assessment": str(case.assessment_id),
            "reason": "Rule hit confirmed against the subject's history. Look for concealment in the load.",
        }  # fmt: skip
        nominate = self.url("nominate", "targeting:nominate", case.subject_id, query=from_assessment)

        def nominated() -> Any:
            self.request("nominate", "analyst", "POST", nominate, nomination, 302)
            made = (
                Target.objects.filter(subject_id=case.subject_id, state="nominated").order_by("-pk").first()
            )
            if made is None:
                raise Failed("no nominated target after the POST")
            return made

        target = self.step("nominate", nominated, needed=True)
        if target is None:  # the nomination form is not there
            return
        detail = self.url("target_page", "targeting:detail", target.pk)
        self.step("target_page", lambda: self.request("target_page", "analyst", "GET", detail))

        def move(step: str, who: str, action: str, to_state: str, **extra: str) -> None:
            """A transition posted from the target page, as its buttons post it; it must have happened."""
            from django.urls import reverse

            def post() -> None:
                version = Target.objects.values_list("version", flat=True).get(pk=target.pk)
                url = reverse(f"targeting:target_{action}", args=[target.pk])  # each button has its URL
                self.request(step, who, "POST", url, {"version": str(version), **extra}, 302)
                state = Target.objects.values_list("state", flat=True).get(pk=target.pk)
                if state != to_state:
                    raise Failed(f"{action}: the target is {state}, not {to_state}")

            self.step(step, post, needed=True)

        move("start_review", "analyst", "start_review", "in_review")
        move("submit_for_approval", "analyst", "submit", "awaiting_approval")
        move("approve", "supervisor", "approve", "approved", reason="Agreed: examine before release.")
        move("dispatch", "supervisor", "dispatch", "dispatched", method="physical",
             instruction="Open the load; look for concealment behind the declared goods.")  # fmt: skip
        instruction = (
            Instruction.objects.filter(target_id=target.pk).select_related("port").order_by("-pk").first()
        )
        if instruction is None:
            return
        self.page("tablet_list", case.officer, "frontline:home")
        on_tablet = self.url("tablet_instruction", "frontline:instruction", instruction.pk)
        self.step(
            "tablet_instruction", lambda: self.request("tablet_instruction", case.officer, "GET", on_tablet)
        )

        def record() -> None:
            from django.core.files.uploadedfile import SimpleUploadedFile

            # As the tablet's script sends it: its own key, moments with their offset, JSON asked back.
            now = datetime.now(UTC).astimezone(ZoneInfo(instruction.port.timezone or "UTC"))
            result = {
                "action": "record", "idempotency_key": str(uuid.uuid4()), "method": "physical", "outcome": "seizure",
                "started_at": (now - timedelta(minutes=9)).isoformat(), "ended_at": (now - timedelta(minutes=1)).isoformat(),
                "revenue_at_stake": "1250.00", "notes": "Two packages behind the front pallets.",
                "goods-0-kind": "cocaine", "goods-0-quantity": "2.4", "goods-0-unit": "kg", "goods-0-value": "84000",
                "photos": SimpleUploadedFile("seizure.jpg", self.photo, content_type="image/jpeg"),
            }  # fmt: skip
            self.request(
                "record_result", case.officer, "POST", on_tablet, result, 201, HTTP_ACCEPT="application/json"
            )
            if not ExaminationResult.objects.filter(target_id=target.pk).exists():
                raise Failed("no examination result after the POST")

        self.step("record_result", record, needed=True)
        self.step(
            "target_page_with_result",
            lambda: self.request("target_page_with_result", "analyst", "GET", detail),
        )


# ----------------------------------------------------------------------------------------- figures


def figures(flow: Flow, samples: int) -> dict[str, Any]:
    """Per step: p95 (nearest rank), p50, max, n, the goal, met, the ratio to /healthz; or skipped."""
    healthz = sorted(flow.times.get("healthz", []))
    base = percentile(healthz, 0.95)
    steps: dict[str, Any] = {}
    for name, who, what in STEPS:
        if name == "healthz":
            continue
        if name in flow.skipped:
            steps[name] = {"skipped": flow.skipped[name], "as": who, "what": what}
            continue
        values = sorted(flow.times.get(name, []))
        p95 = percentile(values, 0.95)
        errors = flow.errors.get(name, [])
        steps[name] = {
            "p95_ms": p95,
            "goal_ms": GOAL_MS,
            "met": p95 is not None and p95 < GOAL_MS and not errors and len(values) >= min(samples, 30),
            "ratio_to_healthz": round(p95 / base, 1) if p95 is not None and base else None,
            "p50_ms": round(statistics.median(values), 1) if values else None,
            "cpu_p50_ms": round(statistics.median(flow.cpu[name]), 1) if flow.cpu.get(name) else None,
            "max_ms": round(values[-1], 1) if values else None,
            "n": len(values),
            "as": who,
            "what": what,
            "url": flow.urls.get(name, ""),
        }
        if errors:
            steps[name]["errors"] = len(errors)
            steps[name]["first_error"] = errors[0]
    return {"steps": steps, "baseline_healthz_p95_ms": base, "baseline_healthz_p50_ms": (
        round(statistics.median(healthz), 1) if healthz else None)}  # fmt: skip


def diagnose(flow: Flow, steps: dict[str, Any], explain: bool) -> dict[str, Any]:
    """For each step of the recorded pass: its time, its queries, their time and the slowest three, and
    the rest (Python, templates); with ``explain``, the plan of each missed step's slowest query on stderr."""
    from django.db import connection

    found: dict[str, Any] = {}
    for name, _, _ in STEPS:
        queries = flow.queries.get(name)
        if not queries:
            continue
        slowest = sorted(queries, key=lambda q: -q["ms"])[:3]
        sql_ms = sum(q["ms"] for q in queries)
        wall = flow.walls.get(name)
        found[name] = {
            "ms": round(wall, 1) if wall is not None else None,
            "queries": len(queries),
            "sql_ms": round(sql_ms, 1),
            # What is not waiting for the database: Python, templates, the session, the channel layer.
            "other_ms": round(wall - sql_ms, 1) if wall is not None else None,
            "slowest": [{"ms": round(q["ms"], 1), "sql": q["sql"][:600]} for q in slowest],
        }
        missed = name in steps and steps[name].get("met") is False
        if explain and missed and slowest:
            sql = slowest[0]["sql"]
            analyse = "ANALYZE, BUFFERS, " if sql.lstrip().upper().startswith(("SELECT", "WITH")) else ""
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN ({analyse}FORMAT TEXT) {sql}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
            except Exception as error:
                plan = f"(no plan: {type(error).__name__}: {error})"
            say(f"{name}: slowest query {slowest[0]['ms']:.1f} ms\n{sql}\n{plan}\n")
    return found


# ----------------------------------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    if args.samples < 30:
        say(f"--samples {args.samples}: fewer than 30 passes; the p95s will be rough")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    os.environ["DJANGO_DEBUG"] = "0"  # as served: no query log, no debug pages
    os.environ["RATC_SIMULATE"] = "0"
    # The bench grows ``make demo``'s world, simulated staff included: a demo installation, where the
    # simulator app is installed (a live centre's settings leave it out).
    os.environ["RATC_DEMO"] = "1"
    # PostgreSQL without DEBUG needs the chain key; the benchmarks share the checkout's key file.
    os.environ.setdefault("RATC_CHAIN_KEY_FILE", str(ROOT / "var" / "chain.key"))
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench_flow_media"))  # the results' photos
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from ratc_ops.celery import app as celery_app

    if connection.vendor != "postgresql":
        sys.exit(
            "bench.flow measures on PostgreSQL, where a million subjects live: set "
            "DATABASE_URL=postgres://user@host:5432/name (SQLite is the laptop's embedded mode)."
        )
    started = time.monotonic()
    load_avg = [round(x, 2) for x in os.getloadavg()]
    name = f"test_{connection.settings_dict['NAME']}_bench_flow"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    say(
        f"database {name} ({'kept after the run, reused if there' if args.keep else 'made fresh, dropped at the end'}); migrating"
    )
    old = setup_databases(verbosity=0, interactive=False, keepdb=args.keep, serialized_aliases=set())
    seconds: dict[str, float] = {}
    try:
        from apps.intake.models import Subject
        from bench.flow_world import MARK, build_demo, grow

        # The load runs the risk engine and the simulator's staff inline, as the embedded demo does.
        settings.CELERY_TASK_ALWAYS_EAGER = celery_app.conf.task_always_eager = True
        mark = time.monotonic()
        grown_before = Subject.objects.filter(external_id__contains=MARK).exists()
        if grown_before:
            from apps.core.demo import ensure_demo_world

            ensure_demo_world()
            world: dict[str, Any] = {"reused": True}
        else:
            world = build_demo(args.ticks, say)
        seconds["demo_world"] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()
        data = grow(args.subjects, seed=args.seed, target_share=args.target_share, pool=args.pool,
                    batch=args.batch, say=say)  # fmt: skip
        seconds["grow"] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()
        refresh_reports(grown=data.get("subjects", 0) > 0)
        seconds["report_summaries"] = round(time.monotonic() - mark, 1)
        # Served as production serves: tasks go to the broker for the workers, not run in the request.
        settings.CELERY_TASK_ALWAYS_EAGER = celery_app.conf.task_always_eager = False
        subjects = Subject.objects.count()

        mark = time.monotonic()
        cases = pick_cases(args.warmup + args.samples + 1)
        say(
            f"{len(cases)} fresh subjects for the flow; {args.warmup} warm-up passes, then {args.samples} counted"
        )
        if len(cases) < args.warmup + 2:
            sys.exit(
                "Too few fresh subjects to nominate: drop the kept database, or grow with a larger --pool."
            )
        flow = Flow()
        counted = cases[args.warmup : -1]
        for i, case in enumerate(cases[:-1]):
            flow.recording = i >= args.warmup
            flow.run(case)
            if i % 10 == 9 or i == len(cases) - 2:
                say(f"pass {i + 1}/{len(cases) - 1}")
        seconds["flow"] = round(time.monotonic() - mark, 1)
        result = figures(flow, len(counted))
        flow.recording, flow.capturing = False, True  # one more pass, its queries recorded
        flow.run(cases[-1])
        diagnosis = diagnose(flow, result["steps"], args.explain)
        measured = {k: v for k, v in result["steps"].items() if "skipped" not in v}
        missed = [k for k, v in measured.items() if not v["met"]]
        report = {
            "benchmark": "flow",
            "database": name,
            "kept": args.keep,
            "server": "in-process Django handler (django.test.Client): middleware, gate, views, templates, "
            "commit hooks; DEBUG off; Celery tasks queued, not run",
            "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
            "subjects": subjects,
            "data": {**data, "world": world},
            "samples_per_step": len(counted),
            "warmup_passes": args.warmup,
            "goal_ms": GOAL_MS,
            "baseline_healthz_p95_ms": result["baseline_healthz_p95_ms"],
            "baseline_healthz_p50_ms": result["baseline_healthz_p50_ms"],
            "steps": result["steps"],
            "skipped": sorted(k for k, v in result["steps"].items() if "skipped" in v),
            "missed": missed,
            "met": bool(measured) and not missed,
            "diagnosis_one_pass": diagnosis,
            "load_avg_before": load_avg,
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "seconds": {**seconds, "total": round(time.monotonic() - started, 1)},
        }
        print(json.dumps(report, indent=2))
        say(f"database {name} {'kept: rerun with --keep' if args.keep else 'dropped'}")
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0, keepdb=args.keep)


def refresh_reports(*, grown: bool) -> None:
    """The report's summary tables over the loaded history (Celery beat keeps them so in production)."""
    from django.db import connection
    from django.utils import timezone

    try:
        from apps.reports.models import StatRefresh
        from apps.reports.stats import refresh_daily_stats
    except ImportError as error:
        say(f"no report summaries ({error})")
        return
    today = timezone.now().date()
    first, last = today - timedelta(days=92), today + timedelta(days=3)
    if not grown and StatRefresh.objects.filter(first_day__lte=first, last_day__gte=last).exists():
        return
    say(f"rebuilding the report summaries {first} .. {last}")
    refresh_daily_stats(first, last)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_dailystat")
        cursor.execute("VACUUM ANALYZE reports_targetstat")


if __name__ == "__main__":
    main()
