"""The demo as a visitor meets it: colleagues at work under their own names, partner agencies with shared
work on their boards, passenger data old enough to be masked (and unmasked), and no debug pages."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.core.demo import DEMO_USERS
from apps.frontline.models import ExaminationResult
from apps.intake.models import Subject
from apps.live.boards import board_or_error, known_target_ids
from apps.simulator import colleagues
from apps.simulator.setup import EXTRA_OFFICERS, ensure_setup
from apps.targeting.models import Instruction, Target, TargetShare, Transition
from apps.watchlists.models import HitRuling
from tests.simulator.test_floor import run_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
#: Every account a visitor can sign in with: the demo users and the extra port officers.
DEMO_LOGINS = {u.username for u in DEMO_USERS} | {o[0] for o in EXTRA_OFFICERS}
LIAISONS = ("police.liaison", "immigration.liaison", "biosecurity.liaison")


def test_the_colleagues_are_named_customs_staff_who_cannot_sign_in(demo):
    users = get_user_model().objects.filter(username__startswith=colleagues.PREFIX)
    assert {u.username for u in users} == {c.username for c in colleagues.COLLEAGUES}
    assert not {u.username for u in users} & DEMO_LOGINS
    for user in users:
        assert user.get_full_name() and not user.has_usable_password()
        assert user.membership.agency.code == "CUS"
    ports = {p for c in colleagues.OFFICERS for p in c.ports}
    assert ports == {"GBFXT", "GBLHR", "GBMNC", "GBDVR", "GBCOV"}  # an examining officer at every port
    assert ensure_setup(steps=("colleagues",))["colleagues"] == "done before"


def test_a_day_on_the_floor_is_worked_by_the_colleagues_and_shared_with_every_partner(
    floor, clock, tick, client_for, django_user_model
):
    run_for(tick, floor, clock, 6 * 60)
    assert ExaminationResult.objects.exists() and TargetShare.objects.exists()

    # Nothing the simulator did was done as an account a visitor signs in with.
    actors = (
        set(Transition.objects.exclude(actor=None).values_list("actor__username", flat=True))
        | set(ExaminationResult.objects.values_list("recorded_by__username", flat=True))
        | set(Instruction.objects.values_list("dispatched_by__username", flat=True))
        | set(TargetShare.objects.values_list("shared_by__username", flat=True))
        | set(HitRuling.objects.values_list("ruled_by__username", flat=True))
        | set(Target.objects.exclude(claimed_by=None).values_list("claimed_by__username", flat=True))
    )
    actors.discard(None)  # the engine and the periodic tasks act as nobody
    assert actors and not actors & DEMO_LOGINS, actors & DEMO_LOGINS
    assert all(a.startswith(colleagues.PREFIX) for a in actors), actors
    # So "My work" of the visitor's analyst is empty until they claim something themselves.
    analyst = django_user_model.objects.get(username="analyst")
    page = client_for(analyst).get(reverse("targeting:queues")).content.decode()
    assert not Target.objects.filter(claimed_by=analyst).exists()
    if "<h2>My work</h2>" in page:
        my_work = page.split("<h2>My work</h2>", 1)[1].split("</section>", 1)[0]
        assert "T-0" not in my_work, my_work

    # Each partner agency's liaison finds shared work on the floor board.
    for username in LIAISONS:
        liaison = django_user_model.objects.get(username=username)
        shared = Target.objects.visible_to(liaison)
        assert shared.exists(), f"nothing shared with {username}"
        page = client_for(liaison).get(reverse("live:floor")).content.decode()
        # The board draws open work and the last day's results: shared work that has since ended
        # (missed, rejected, closed long ago) stays in the liaison's scope but leaves the board, which
        # the simulated day's draw sometimes gives every shared target of one agency.
        on_board = shared.filter(pk__in=known_target_ids(liaison, board_or_error(liaison, "floor")))
        if on_board.exists():
            assert "data-target=" in page, f"{username}'s board is empty"
            assert any(t.reference in page for t in on_board), username
        # Shared through the sharing service: the target's history says so.
        assert Transition.objects.filter(
            target__in=shared, reason__startswith=f"Shared with {liaison.membership.agency.code}"
        ).exists()


def test_aged_passenger_data_is_masked_and_can_be_unmasked(demo, django_user_model, client_for):
    from apps.compliance.masking import subject_is_masked
    from apps.compliance.services import decide_unmask, request_unmask

    report = ensure_setup(steps=("aged",))
    assert "masked" in report["aged"], report
    cutoff = timezone.now() - timedelta(days=182)
    aged = Subject.objects.filter(kind="traveller", received_at__lt=cutoff)
    assert aged.count() >= 20
    assert (
        aged.filter(message__source__kind="api").exists()
        and aged.filter(message__source__kind="pnr").exists()
    )
    assert not aged.filter(masked_at=None).exists()  # retention ran through its own service
    # Nothing of the past flights is left on anyone's desk.
    assert not Target.objects.filter(subject__in=aged, state__in=["nominated", "in_review"]).exists()

    analyst = django_user_model.objects.get(username="analyst")
    supervisor = django_user_model.objects.get(username="supervisor")
    subject = aged.filter(owner_agency__code="CUS").first() or aged.first()
    assert subject_is_masked(analyst, subject)
    name = subject.facts.get("surname")
    assert name
    page = client_for(analyst, purpose="risk_analysis").get(reverse("intake:subject", args=[subject.pk]))
    if page.status_code == 200:
        assert name not in page.content.decode()
    unmask = request_unmask(
        actor=analyst, subject=subject, reason="Follow-up of a seizure on the same route."
    )
    decide_unmask(actor=supervisor, unmask=unmask, approve=True, reason="Investigation file 2026/114.")
    assert not subject_is_masked(analyst, subject)
    assert subject_is_masked(supervisor, subject)  # the grant is the requester's

    before = Subject.objects.count()
    assert ensure_setup(steps=("aged",))["aged"] == "done before"
    from apps.simulator.aged import ensure_aged_passengers

    assert ensure_aged_passengers() == "aged passengers: present"
    assert Subject.objects.count() == before


def test_the_demo_runs_with_debug_off_and_still_serves_its_static_files(client):
    # As ``make demo`` runs: embedded (no DATABASE_URL, no REDIS_URL), RATC_DEMO=1, DEBUG not given.
    drop = ("DJANGO_DEBUG", "DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "CELERY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(RATC_DEMO="1", DJANGO_SETTINGS_MODULE="ratc_ops.settings", PYTHONPATH=str(ROOT))
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert shown.stdout.strip() == "False", shown.stderr
    makefile = (ROOT / "Makefile").read_text()
    served = next(line for line in makefile.splitlines() if "daphne" in line and "RATC_DEMO=1" in line)
    assert "DJANGO_DEBUG=0" in served
    # With DEBUG off (as here) the application still serves its own styles and scripts.
    from django.conf import settings

    assert not settings.DEBUG
    for path in ("/static/css/app.css", "/static/vendor/htmx/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
