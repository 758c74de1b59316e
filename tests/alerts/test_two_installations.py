"""End to end between two installations of RATC Ops on 127.0.0.1, each with its own database:

A is this test's own server (pytest-django's live_server on the test database), B a Daphne subprocess on
a second database. A exports an alert → A pushes it to B's TAXII server → B nominates, approves,
dispatches and examines → B pushes its sighting to A's TAXII server → it shows on A's target page; each
disclosure is in its own installation's access log.

Lean by design: on PostgreSQL, B's database is a copy of the migrated test database (``pg_dump``), not a
second migration; elsewhere B migrates a SQLite file.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from apps.alerts import services
from apps.alerts.models import OutboundObject, PartnerSighting
from apps.compliance.models import AccessLogEntry
from tests.alerts.world import seed_site
from tests.live.server import ROOT, DaphneServer


def _database_for_b(server: DaphneServer, name: str) -> None:
    """B's database: the test database's schema and reference rows, copied; or a migrated SQLite file."""
    if connection.vendor != "postgresql":
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=server.env,
                       check=True, timeout=600)  # fmt: skip
        return
    settings = connection.settings_dict
    args = [
        "-h",
        settings["HOST"] or "127.0.0.1",
        "-p",
        str(settings["PORT"] or 5432),
        "-U",
        settings["USER"],
    ]
    env = {"PATH": "/usr/bin:/bin", "PGPASSWORD": settings.get("PASSWORD") or ""}
    subprocess.run(["dropdb", *args, "--if-exists", name], check=True, env=env)
    subprocess.run(["createdb", *args, name], check=True, env=env)
    dump = subprocess.run(["pg_dump", *args, "--no-owner", settings["NAME"]], check=True, env=env,
                          capture_output=True)  # fmt: skip
    subprocess.run(["psql", *args, "-q", "-v", "ON_ERROR_STOP=1", name], input=dump.stdout, check=True, env=env,
                   capture_output=True)  # fmt: skip
    server.env["DATABASE_URL"] = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    )


@pytest.fixture
def installation_b(transactional_db: Any, tmp_path: Any) -> Any:
    if shutil.which("pg_dump") is None and connection.vendor == "postgresql":
        pytest.fail("pg_dump is needed to copy the database for the second installation")
    # The embedded mode (no Redis, tasks inline): the two installations share nothing but HTTP.
    b = DaphneServer(tmp_path / "b", extra_env={"RATC_ALERTS_IDENTITY": "Centre B customs",
                                                 "CELERY_TASK_ALWAYS_EAGER": "1",
                                                 "RATC_CHAIN_ANCHOR_DIR": str(tmp_path / "b" / "anchors")})  # fmt: skip
    b.env.pop("REDIS_URL", None)
    name = f"{connection.settings_dict['NAME']}_b"[:60]
    _database_for_b(b, name)
    b.start()
    yield b
    b.stop()
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        subprocess.run(["dropdb", "-h", settings["HOST"] or "127.0.0.1", "-U", settings["USER"], "--if-exists", name],
                       check=False, env={"PATH": "/usr/bin:/bin"})  # fmt: skip


SEED_B = """
import json
from django.contrib.auth.models import User
from apps.alerts.models import IncomingAlert, OutboundObject
from apps.compliance.models import AccessLogEntry
from tests.alerts.world import seed_site
seed_site(code="BEX", partner_code="ACU", partner_name="Centre A customs", partner_collection={collection!r},
          partner_token={token!r}, their_api_root={root!r}, their_collection={their_collection!r},
          their_token={their_token!r}, with_target=False)
"""

WORK_B = """
import json
from types import SimpleNamespace
from django.contrib.auth.models import User
from apps.alerts import services
from apps.alerts.models import IncomingAlert, OutboundObject
from apps.compliance.models import AccessLogEntry
from apps.intake.models import Subject
from tests.alerts.world import examine
alert = IncomingAlert.objects.get()
people = SimpleNamespace(**{r: User.objects.get(username=f"{u}.bex") for r, u in
                            (("analyst", "ana"), ("supervisor", "sup"), ("officer", "off"))})
target = services.turn_into_target(actor=people.analyst, alert=alert, subject_id=Subject.objects.get().pk)
examine(people, target)
back = OutboundObject.objects.get(kind="sighting")
log = AccessLogEntry.objects.filter(action="disclose").values_list("user__username", "object_id", "disclosed_to")
print(json.dumps({"alert": alert.stix_id, "containers": alert.properties.get("containers"), "target": target.pk,
                  "sighting_pushed": bool(back.pushed_at), "log": [list(r) for r in log]}))
"""


def test_alert_goes_from_a_to_b_and_the_outcome_comes_back(installation_b, live_server, client):
    b = installation_b
    a_url = live_server.url.replace("localhost", "127.0.0.1")
    col_a_at_b, col_b_at_a = str(uuid.uuid4()), str(uuid.uuid4())
    tok_a_at_b, tok_b_at_a = "ratc_" + secrets.token_urlsafe(32), "ratc_" + secrets.token_urlsafe(32)
    b.run_python(SEED_B.format(collection=col_a_at_b, token=tok_a_at_b, root=f"{a_url}/taxii2/api/",
                               their_collection=col_b_at_a, their_token=tok_b_at_a))  # fmt: skip
    a = seed_site(code="CUS", partner_code="BEC", partner_name="Centre B customs", partner_collection=col_b_at_a,
                  partner_token=tok_b_at_a, their_api_root=f"{b.url}/taxii2/api/", their_collection=col_a_at_b,
                  their_token=tok_a_at_b)  # fmt: skip

    # A exports; the push to B's server happens after the commit.
    sent = services.export_target(
        actor=a.supervisor, target=a.target, partner=a.partner, reason="Onward to B"
    )
    sent.refresh_from_db()
    a.partner.refresh_from_db()
    assert sent.pushed_at is not None, a.partner.last_error

    # B imports, nominates, approves, dispatches, examines; its sighting is pushed to A.
    at_b = json.loads(b.run_python(WORK_B).strip().splitlines()[-1])
    assert at_b["alert"] == sent.stix_id and at_b["containers"] == ["MSCU7654321"]
    assert at_b["sighting_pushed"]
    assert at_b["log"] == [["ana.bex", str(at_b["target"]), "ACU: Centre A customs"]]

    # A has the sighting on its target, on the target page, and its own disclosure in its access log.
    seen = PartnerSighting.objects.get()
    assert seen.target_id == a.target.pk and seen.outcome == "seizure" and seen.finding
    client.force_login(User.objects.get(username="sup.cus"))
    session = client.session
    session["ratc_purpose"] = {"code": "risk_analysis", "text": ""}
    session.save()
    page = client.get(f"/targets/{a.target.pk}/").content.decode()
    assert "Partners' examinations" in page and "Seizure" in page
    log = list(
        AccessLogEntry.objects.filter(action="disclose").values_list(
            "user__username", "object_id", "disclosed_to"
        )
    )
    assert log == [("sup.cus", str(a.target.pk), "BEC: Centre B customs")]
    assert OutboundObject.objects.get().sightings.count() == 1
