"""A short exercise clicked as the trainer and a trainee click it, checked on the trainer's scoreboard.

A Daphne server runs a training floor (``RATC_TRAINING=1``) on its own SQLite file, set up as
``manage.py training_floor setup`` does, with the test scenario folder offered. The trainer starts the
short drill from the training floor page; the trainee works the real target pages (start review, submit
for approval, withdraw); the trainer's scoreboard then shows what the scenario's answers say it must.
Screenshots: ``artifacts/screenshots/training-*.png``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from apps.core.demo import DEMO_PASSWORD
from apps.training import scenario as scenarios
from apps.training.setup import ensure_training_floor
from tests.browser_support import sign_in
from tests.live.server import ROOT, DaphneServer
from tests.training.conftest import SCENARIOS

pytestmark = [pytest.mark.browser]
LARGE = (1600, 1000)


def _database_url() -> str:
    """The test database's URL when it is PostgreSQL (CI), else "" (embedded: SQLite in memory)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        return ""
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def floor(transactional_db, tmp_path, settings):
    """A training floor served by Daphne. On PostgreSQL it shares the test database, already migrated
    (the test is transactional, so the server sees what is committed and the database is emptied
    after); embedded, it migrates a SQLite file of its own."""
    env = {
        "RATC_TRAINING": "1", "RATC_TRAINING_SCENARIOS": str(SCENARIOS), "CELERY_TASK_ALWAYS_EAGER": "1",
        "RATC_CHAIN_ANCHOR_DIR": str(tmp_path / "anchors"),
    }  # fmt: skip
    url = _database_url()
    if url:
        env["RATC_TRAINING_DATABASE_URL"] = url
    server = DaphneServer(tmp_path, extra_env=env)
    if not url:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0", "--skip-checks"],
            cwd=ROOT, env=server.env, check=True, timeout=900,
        )  # fmt: skip
        server.run_python(
            "from apps.training.setup import ensure_training_floor; ensure_training_floor(accounts=2)"
        )
    else:  # the same database: set it up from here, without a second Django start-up
        settings.RATC_TRAINING = True
        ensure_training_floor(accounts=2)
        # The server checks passwords with the real hashers; the tests' fast one is not among them.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
        for user in get_user_model().objects.filter(username__in=("supervisor", "trainee.1")):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    server.start()
    yield server
    server.stop()


def state_purpose(page) -> None:
    """The purpose of access is asked once per session, on the first page that shows personal data."""
    if page.locator("input[name=purpose]").count():
        page.check("input[value=risk_analysis]")
        page.click("text=Continue")
        page.wait_for_load_state()


TARGETS_BY_REF = (
    "from apps.training.models import Exercise\n"
    "from apps.targeting.models import Target\n"
    "e = Exercise.objects.latest('pk')\n"
    "found = {p.ref: Target.objects.filter(subject_id=p.subject_id).values_list('pk', flat=True).first()"
    " for p in e.planted.all()}\n"
)


def targets_by_ref(server: DaphneServer) -> dict[str, int | None]:
    """The planted subjects' targets (what the trainee finds in the queue), read where the server keeps them."""
    if "RATC_TRAINING_DATABASE_URL" not in server.env:  # its own SQLite file
        out = server.run_python("import json\n" + TARGETS_BY_REF + "print(json.dumps(found))")
        return json.loads(out.strip().splitlines()[-1])
    from apps.targeting.models import Target
    from apps.training.models import Exercise

    exercise = Exercise.objects.latest("pk")
    return {
        p.ref: Target.objects.filter(subject_id=p.subject_id).values_list("pk", flat=True).first()
        for p in exercise.planted.all()
    }


def test_a_trainee_works_the_drill_and_the_scoreboard_matches_the_answers(floor, new_page, screenshot):
    base = floor.url
    drill = scenarios.parse((SCENARIOS / "short_drill.yaml").read_text(), name="short_drill.yaml")
    violations = [item.id for _, item in drill.planted() if item.answer.expect == "target"]

    # The trainer starts the drill from the training floor page, for trainee.1, at x600.
    trainer = new_page(viewport=LARGE)
    sign_in(trainer, base, "supervisor", DEMO_PASSWORD)
    assert "TRAINING FLOOR" in trainer.locator("[data-testid=training-banner]").inner_text()
    with trainer.expect_navigation():
        trainer.locator(".sidenav").get_by_role("link", name="Training floor").click()
    trainer.select_option("#scenario", "short_drill")
    trainer.fill("#speed", "600")
    trainer.get_by_label("trainee.1", exact=False).check()
    trainer.evaluate("window.scrollTo(0, 0)")  # the sticky header back on top for the full-page picture
    screenshot(trainer, "training-start")
    with trainer.expect_navigation():
        trainer.get_by_role("button", name="Start the exercise").click()
    trainer.wait_for_selector("[data-testid=scoreboard]")

    # The rule nominated both banana loads at once (the vessel's data is sent at the start).
    targets = targets_by_ref(floor)
    assert targets["C1"] and targets["C2"] and targets["C3"] is None

    # The trainee works the floor: the cocaine load to approval, the decoy withdrawn; the coffee missed.
    trainee = new_page(viewport=LARGE)
    sign_in(trainee, base, "trainee.1", DEMO_PASSWORD)
    assert "exercise running" in trainee.locator("[data-testid=training-banner]").inner_text()
    for ref, steps in (("C1", ["start_review", "submit"]), ("C2", ["withdraw"])):
        trainee.goto(f"{base}/targets/")
        state_purpose(trainee)
        with trainee.expect_navigation():
            trainee.locator(f'[data-target="{targets[ref]}"] a.tg-ref').click()
        state_purpose(trainee)
        for step in steps:
            if step == "withdraw":
                trainee.fill(
                    "#reason",
                    "Distressed sale at a loss; the contract and the surveyor's report are on file.",
                )
            with trainee.expect_navigation():
                trainee.locator(f'[data-action="{step}"]').click()
    assert "Withdrawn" in trainee.locator("main").inner_text()

    # The trainee may not read the scoreboard while the exercise runs.
    response = trainee.goto(f"{trainer.url}")
    assert response.status == 403

    # The trainer's scoreboard, against the scenario's answers.
    trainer.reload()
    row = trainer.locator('[data-trainee="trainee.1"]')
    assert row.locator('[data-metric="found"]').inner_text().strip() == f"1 / {len(violations)}"
    assert row.locator('[data-metric="missed"]').inner_text().strip() == str(len(violations) - 1)
    assert row.locator('[data-metric="false"]').inner_text().strip() == "0"
    assert row.locator('[data-metric="blind"]').inner_text().strip() == "0 / 1"
    assert row.locator('[data-metric="time"]').inner_text().strip().endswith("sim. min)")
    screenshot(trainer, "training-scoreboard")

    # Each decision against the answers.
    with trainer.expect_navigation():
        row.locator("[data-testid=answers-link]").click()
    state_purpose(trainer)
    outcomes = {
        ref: trainer.locator(f'[data-planted="{ref}"]').get_attribute("data-outcome")
        for ref in ("C1", "C2", "C3")
    }
    assert outcomes == {"C1": "found", "C2": "released", "C3": "missed"}
    screenshot(trainer, "training-answers")
