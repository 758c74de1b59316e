"""``make demo`` for real: Daphne with the in-process floor simulator, watched through Chromium.

The server runs as ``make demo`` runs it (SQLite file, in-memory channel layer, tasks inline,
``RATC_SIMULATE=1``), in a subprocess on a scratch database, at a high speed so that a simulated
morning passes in a couple of minutes. The checks: the national board changes without a reload, a
target reaches "result recorded", the frontline tablet shows the port's work and the manager's report
shows a hit rate. Screenshots of the floor board, the tablet and the report are kept.

The server gets a scratch SQLite file whatever ``DATABASE_URL`` says, so the suite's own database is
never touched; ``tests.simulator.demo_settings`` adds the simulator app until the lead installs it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse

from apps.core.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SPEED = "600"  # ten simulated minutes per real second
OFFICERS = {
    "GBFXT": "officer.felixstowe",
    "GBLHR": "officer.heathrow",
    "GBDVR": "officer.dover",
    "GBMNC": "officer.manchester",
    "GBCOV": "officer.coventry",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _wait(predicate, timeout: float, what: str, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class DemoServer:
    def __init__(self, url: str, database: Path, log: Path) -> None:
        self.url, self.database, self.log = url, database, log

    def query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[DemoServer]:
    folder = tmp_path_factory.mktemp("demo")
    database = folder / "demo.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.simulator.demo_settings",
        SQLITE_PATH=str(database),
        RATC_DEMO="1",
        RATC_SIMULATE_SPEED=SPEED,
        RATC_SIMULATE_TICK="1",
        RATC_SIMULATE_HISTORY="0",  # the model is trained in make demo; not needed to see the floor move
        PYTHONPATH=str(ROOT),
        DJANGO_ALLOW_ASYNC_UNSAFE="",
    )
    python = sys.executable
    for args in (["migrate", "--noinput"], ["demo_world"], ["simulate_floor", "--setup-only"]):
        subprocess.run(
            [python, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600
        )
    port = _free_port()
    log = folder / "daphne.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ratc_ops.asgi:application"],
            cwd=ROOT, env=env | {"RATC_SIMULATE": "1"}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/healthz", timeout=5).status == 200  # noqa: S310 (our http URL)
        except OSError:
            return server.poll() is not None  # stop waiting if it died

    try:
        _wait(up, 90, "Daphne to answer")
        assert server.poll() is None, log.read_text()[-3000:]
        yield DemoServer(url, database, log)
    finally:
        server.terminate()  # SIGTERM: Daphne stops, and the simulator with it
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_floor_board_moves_without_reload(demo_server, new_page, screenshot):
    page = new_page()
    sign_in(page, demo_server.url, "supervisor", DEMO_PASSWORD)
    page.goto(demo_server.url + reverse("live:floor"))
    page.wait_for_selector("[data-board-ws][data-live=live]", timeout=30_000)
    box = page.locator("#board-sections")
    first = box.inner_html()
    # No reload from here on: the board must redraw itself from the events the simulator's work sends.
    page.wait_for_function(
        "(first) => document.querySelector('#board-sections').innerHTML !== first "
        "&& document.querySelector('[data-board-ws]').hasAttribute('data-synced')",
        arg=first,
        timeout=120_000,
    )
    _wait(lambda: demo_server.query("SELECT count(*) FROM targeting_target")[0][0] >= 5, 120, "targets")
    page.wait_for_timeout(3000)
    assert box.inner_html() != first
    assert page.locator("[data-target]").count() > 0


def test_a_target_reaches_result_recorded_and_the_tablet_shows_the_port(demo_server, new_page, screenshot):
    rows = _wait(
        lambda: demo_server.query(
            "SELECT p.locode FROM targeting_target t JOIN agencies_port p ON p.id = t.port_id "
            "WHERE t.state IN ('result_recorded', 'closed') ORDER BY t.id"
        ),
        300,
        "a target with its result recorded",
    )
    transitions = demo_server.query(
        "SELECT count(*) FROM targeting_transition WHERE to_state = 'result_recorded'"
    )[0][0]
    assert transitions >= 1
    home = _url("frontline:home")
    if home is None:
        pytest.skip("frontline:home is not there yet")
    # The tablet of the busiest port with results.
    locode = max(set(r[0] for r in rows), key=[r[0] for r in rows].count)
    page = new_page(viewport=(820, 1180), has_touch=True, is_mobile=True)
    sign_in(page, demo_server.url, OFFICERS[locode], DEMO_PASSWORD)
    page.goto(demo_server.url + home)
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").count() >= 1
    screenshot(page, "demo-tablet")


def test_the_managers_report_shows_a_hit_rate(demo_server, new_page, screenshot):
    report = _url("reports:home")
    if report is None:
        pytest.skip("reports:home is not there yet")
    _wait(
        lambda: demo_server.query("SELECT count(*) FROM frontline_examinationresult")[0][0] >= 3,
        300,
        "three examination results",
    )
    page = new_page()
    sign_in(page, demo_server.url, "manager", DEMO_PASSWORD)
    page.goto(demo_server.url + report)
    page.wait_for_load_state("networkidle")
    text = page.locator("main").inner_text().lower()
    assert "hit rate" in text
    screenshot(page, "demo-report")
    # The floor board once the morning has moved on, for the record.
    board = new_page()
    sign_in(board, demo_server.url, "supervisor", DEMO_PASSWORD)
    board.goto(demo_server.url + reverse("live:floor"))
    board.wait_for_selector("[data-board-ws][data-live=live]", timeout=30_000)
    screenshot(board, "demo-floor-board")
