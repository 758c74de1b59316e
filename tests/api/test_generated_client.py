"""A client generated from the OpenAPI schema by ``openapi-python-client`` runs a port system's day against
a live server (issue 22's acceptance): push a manifest, pull the resulting instruction for its port, post
the examination result with photos, and retry it with the same idempotency key: stored once.

The client is generated into a temporary folder at each run (never committed): the schema is what is
tested, so a change that breaks generation, or makes the generated code call the API wrongly, fails here.
The live server (pytest-django's ``live_server``: real HTTP on 127.0.0.1, its own thread and database
connection) needs committed data, so this test uses a transactional database; it runs under xdist's
``loadfile`` like any other module (one live server per worker, on a free port).
"""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command
from PIL import Image

from apps.agencies import tokens
from apps.agencies.models import Agency, Port, TransportMode
from apps.agencies.roles import Role
from apps.core.demo import ensure_demo_world
from apps.frontline.models import ExaminationPhoto, ExaminationResult
from apps.intake.models import IntakeRun, SourceKind, Subject
from apps.targeting import services as targeting
from tests.factories import DataSourceFactory, PortFactory, member

#: A real IATA Cargo-XML air waybill (XFWB) whose last flight lands at Abu Dhabi (AUH). None of the shared
#: cargo files arrives at a demo port, so the test's port system is the one of that airport.
MANIFEST = Path("cargo") / "xfwb" / "888-11111111_XFWB.xml"
PACKAGE = "ratc_api_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, django_db_blocker) -> Iterator[ModuleType]:
    """The client package, generated from the schema the app serves, importable for this module."""
    if not GENERATOR.exists():
        pytest.fail(f"openapi-python-client is not installed ({GENERATOR}): pip install the dev extra")
    folder = tmp_path_factory.mktemp("generated-client")
    schema = folder / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--file", str(schema), "--format", "openapi-json")
    config = folder / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\nproject_name_override: ratc-api-client\n")
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.monotonic()
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--output-path", str(folder / PACKAGE),
         "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"the generator refused the schema:\n{output}"
    print(f"\nclient generated in {time.monotonic() - started:.1f}s; generator warnings:\n{output.strip()}")
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def _dispatched(subject: Subject, port: Port) -> int:
    """The target on ``subject`` taken to an instruction through the services, as the floor would:
    the analyst nominates and submits it, the supervisor approves and dispatches it. Returns its id."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    analyst, supervisor = users.get(username="analyst"), users.get(username="supervisor")
    target = targeting.nominate_target(
        actor=analyst, subject=subject, risk_area="narcotics", reasons=["Consignee first seen this month"]
    )
    if target.state == "nominated":
        target = targeting.start_review(actor=analyst, target=target) or target
        target.refresh_from_db()
    if target.state == "in_review":
        targeting.submit_for_approval(actor=analyst, target=target)
        target.refresh_from_db()
    targeting.approve_target(actor=supervisor, target=target)
    target.refresh_from_db()
    instruction = targeting.dispatch_target(
        actor=supervisor, target=target, method="physical", instruction="Open the consignment at the shed."
    )
    assert instruction.port_id == port.pk
    return target.pk


@pytest.mark.django_db(transaction=True)
def test_a_port_system_runs_its_day_through_a_generated_client(
    generated: ModuleType, live_server, shared_data: Path, settings, tmp_path: Path
) -> None:
    from ratc_api_client.api.v1 import (  # type: ignore[import-not-found]
        v1_examination_results_create,
        v1_instructions_list,
        v1_intake_runs_create,
    )
    from ratc_api_client.models import IntakeSubmitRequest, RecordRequest  # type: ignore[import-not-found]
    from ratc_api_client.models.method_enum import MethodEnum  # type: ignore[import-not-found]
    from ratc_api_client.models.outcome_enum import OutcomeEnum  # type: ignore[import-not-found]
    from ratc_api_client.types import File  # type: ignore[import-not-found]

    settings.MEDIA_ROOT = str(tmp_path / "media")
    ensure_demo_world()
    abu_dhabi = PortFactory(locode="AEAUH", name="Abu Dhabi airport", mode=TransportMode.AIR, iata_code="AUH")
    customs = Agency.objects.get(code="CUS")
    system = member("pcs.abu-dhabi", customs, Role.SYSTEM, ports=[abu_dhabi])
    manifests = DataSourceFactory(
        owner_agency=customs, name="Air cargo community system", kind=SourceKind.CARGO_MANIFEST
    )
    client = generated.AuthenticatedClient(
        base_url=live_server.url,
        token=tokens.issue(user=system, name="port community system").secret,
        prefix="Token",
        headers={"X-Access-Purpose": "examination"},  # instructions carry personal data
        raise_on_unexpected_status=True,
    )

    # 1. Push the manifest (multipart, a real WCO DEC file).
    path = shared_data / MANIFEST
    with path.open("rb") as handle:
        pushed = v1_intake_runs_create.sync_detailed(
            client=client,
            body=IntakeSubmitRequest(
                source=manifests.pk,
                files=[File(payload=handle, file_name=path.name, mime_type="application/xml")],
            ),
            idempotency_key=str(uuid.uuid4()),
        )
    assert pushed.status_code == 202, pushed.content
    run = IntakeRun.objects.get(pk=pushed.parsed.id)
    assert run.requested_by == system and run.files == [path.name]
    assert run.status.startswith("done"), (run.status, run.problems)
    landed = list(Subject.objects.filter(source=manifests).values_list("kind", "port__locode"))
    arriving = (
        Subject.objects.filter(source=manifests, port=abu_dhabi, kind="consignment").order_by("pk").first()
    )
    assert arriving is not None, f"the waybill's consignment should arrive at AUH: {landed}"

    # 2. The floor targets one of its consignments (the intake alone nominates only on a rule's hit).
    target_id = _dispatched(arriving, abu_dhabi)

    # 3. Pull the instructions for the port.
    # The schema says the purpose is required here (instructions carry personal data): the generated
    # call takes it as an argument.
    pulled = v1_instructions_list.sync(client=client, port_locode="AEAUH", x_access_purpose="examination")
    mine = [i for i in pulled.results if i.target == target_id]
    assert len(mine) == 1, [i.to_dict() for i in pulled.results]
    instruction = mine[0]

    # 4. Post the result with two photos, and 5. retry it with the same keys.
    key, header_key = uuid.uuid4(), str(uuid.uuid4())
    photos = [_jpeg((200, 30, 30)), _jpeg((30, 200, 30))]

    def post(header_key: str) -> Any:
        body = RecordRequest(
            instruction=instruction.id, idempotency_key=key, method=MethodEnum.PHYSICAL,
            outcome=OutcomeEnum.NO_FINDING, notes="Shed 4: nothing found.",
            photos=[File(payload=io.BytesIO(data), file_name=f"photo-{n}.jpg", mime_type="image/jpeg")
                    for n, data in enumerate(photos, start=1)],
        )  # fmt: skip
        return v1_examination_results_create.sync_detailed(
            client=client, body=body, idempotency_key=header_key
        )

    first = post(header_key)
    assert first.status_code == 201, first.content
    # The retry a lost answer calls for: the same Idempotency-Key header gets the first answer replayed.
    again = post(header_key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", again.headers
    assert again.parsed.id == first.parsed.id
    # A retry under a new header key (a restarted system) still carries the result's own key: the stored
    # result comes back with 200, nothing recorded twice.
    later = post(str(uuid.uuid4()))
    assert later.status_code == 200, later.content
    assert later.parsed.id == first.parsed.id
    stored = ExaminationResult.objects.filter(idempotency_key=key)
    assert stored.count() == 1
    assert stored.get().recorded_by == system and stored.get().instruction_id == instruction.id
    assert ExaminationPhoto.objects.filter(result__idempotency_key=key).count() == len(photos)
