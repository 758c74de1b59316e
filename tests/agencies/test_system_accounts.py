"""A system account is scoped like a person: to its agency and its ports (and, when listed, its data
sources). Through a token it pulls the targets and instructions of its ports, posts results and intake,
and nothing else; what it may do comes from the one permission table (``operations.OPERATIONS``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.agencies import tokens
from apps.agencies.operations import OPERATIONS, check
from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry
from apps.intake.models import IntakeRun
from apps.targeting.models import Instruction
from tests.factories import DataSourceFactory, member
from tests.targeting.factories import SubjectFactory, TargetFactory

#: Everything a port system does: pull what is sent to its ports (or be told by webhook), push data, post
#: results.
SYSTEM_OPERATIONS = {
    "reference.view",
    "source.view",
    "intake.upload",
    "target.pull",
    "exam.view",
    "exam.record",
    "webhook.manage",
}


@pytest.fixture
def system(world):
    return member("pcs.felixstowe", world.customs, Role.SYSTEM, ports=[world.port_a])


@pytest.fixture
def api(system):
    client = APIClient()
    # Targets and instructions carry personal data: a purpose is declared, and each read is logged.
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {tokens.issue(user=system, name='pcs').secret}",
        HTTP_X_ACCESS_PURPOSE="examination",
    )
    return client


@pytest.fixture
def floor(world, customs_supervisor):
    """Dispatched targets with instructions at port A and at port B, and a nomination at port A."""

    def dispatched(port, random_control=False):
        subject = SubjectFactory(source__owner_agency=world.customs, port=port)
        target = TargetFactory(subject=subject, state="dispatched", score=0.87, random_control=random_control)
        instruction = Instruction.objects.create(
            target=target, port=port, method="physical", instruction="Check the reefer's evaporator.",
            dispatched_by=customs_supervisor, dispatched_at=timezone.now() - timedelta(hours=1),
        )  # fmt: skip
        return target, instruction

    target_a, instruction_a = dispatched(world.port_a)
    target_b, instruction_b = dispatched(world.port_b)
    nominated_a = TargetFactory(subject=SubjectFactory(source__owner_agency=world.customs, port=world.port_a))
    return {"target_a": target_a, "instruction_a": instruction_a, "target_b": target_b,
            "instruction_b": instruction_b, "nominated_a": nominated_a}  # fmt: skip


def test_the_permission_table_gives_a_system_account_only_its_work():
    allowed = {op for op, roles in OPERATIONS.items() if Role.SYSTEM in roles}
    assert allowed == SYSTEM_OPERATIONS


def test_a_port_system_pulls_the_targets_and_instructions_of_its_port_only(api, floor):
    targets = api.get("/api/v1/targets/")
    assert targets.status_code == 200
    assert [t["id"] for t in targets.json()["results"]] == [floor["target_a"].pk]
    instructions = api.get("/api/v1/instructions/")
    assert instructions.status_code == 200
    assert [i["id"] for i in instructions.json()["results"]] == [floor["instruction_a"].pk]
    assert api.get(f"/api/v1/instructions/{floor['instruction_a'].pk}/").status_code == 200
    # Another port's instruction and target, and a nomination still argued on the floor: not there.
    assert api.get(f"/api/v1/instructions/{floor['instruction_b'].pk}/").status_code == 404
    assert api.get(f"/api/v1/targets/{floor['target_b'].pk}/").status_code == 404
    assert api.get(f"/api/v1/targets/{floor['nominated_a'].pk}/").status_code == 404
    # Each read of a target is in the access log, under the system account and its purpose.
    logged = AccessLogEntry.objects.filter(user__username="pcs.felixstowe", purpose="examination")
    assert set(logged.values_list("action", "object_type", "object_id")) == {
        ("search", "target", ""),
        ("search", "instruction", ""),
        ("view", "instruction", str(floor["instruction_a"].pk)),
    }


def test_without_a_purpose_a_port_system_reads_no_personal_data(system, floor):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user=system, name='np').secret}")
    assert client.get("/api/v1/instructions/").status_code == 403


def test_a_port_system_reads_the_briefing_as_the_officer_does(api, floor):
    body = api.get(f"/api/v1/targets/{floor['target_a'].pk}/").json()
    assert body["score"] is None and body["random_control"] is None and body["shared_with"] == []


def test_a_port_system_posts_results_for_its_port_only(api, floor):
    def result(instruction):
        return {"instruction": instruction.pk, "idempotency_key": str(uuid.uuid4()), "method": "physical",
                "outcome": "no_finding"}  # fmt: skip

    posted = api.post("/api/v1/examination-results/", result(floor["instruction_a"]), format="json")
    assert posted.status_code == 201, posted.content
    assert posted.json()["recorded_by"] == "pcs.felixstowe"
    other = api.post("/api/v1/examination-results/", result(floor["instruction_b"]), format="json")
    assert other.status_code == 404


def test_a_port_system_does_nothing_else(api, floor, world):
    target = floor["target_a"]
    assert api.post("/api/v1/targets/", {"subject": target.subject_id, "risk_area": "narcotics"},
                    format="json").status_code == 403  # fmt: skip
    assert api.post(f"/api/v1/targets/{target.pk}/transitions/",
                    {"action": "withdraw", "expected_version": target.version, "reason": "x"},
                    format="json").status_code == 403  # fmt: skip
    assert api.post("/api/v1/holds/", {"target": target.pk, "reason": "x"}, format="json").status_code == 403
    assert api.get("/api/v1/subjects/").status_code == 403
    assert api.get("/api/v1/rules/").status_code in {403, 404}


def test_a_port_system_has_no_target_pages(client_for, system, floor):
    client = client_for(system)  # a purpose declared: the answer is about the role, not the purpose
    assert client.get(reverse("targeting:list")).status_code == 403
    assert client.get(reverse("targeting:detail", args=[floor["target_a"].pk])).status_code in {403, 404}


def test_a_system_without_ports_sees_no_target(world, floor):
    portless = member("pcs.none", world.customs, Role.SYSTEM)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {tokens.issue(user=portless, name='x').secret}",
        HTTP_X_ACCESS_PURPOSE="examination",
    )
    assert client.get("/api/v1/targets/").json()["results"] == []
    assert client.get("/api/v1/instructions/").json()["results"] == []


def test_a_port_system_pushes_intake_into_the_sources_its_membership_lists(api, system, world, shared_data):
    manifests = DataSourceFactory(owner_agency=world.customs, name="Manifests of Felixstowe")
    declarations = DataSourceFactory(owner_agency=world.customs, name="Declarations, national")
    path = shared_data / "cargo" / "wco-dec" / "TT_IM005a.xml"

    def push(source):
        with path.open("rb") as handle:
            return api.post(
                "/api/v1/intake-runs/", {"source": source.pk, "files": [handle]}, format="multipart"
            )

    assert push(declarations).status_code == 202  # no sources listed: every source of its agency
    system.membership.sources.set([manifests])
    refused = push(declarations)
    assert refused.status_code == 403 and "source" in refused.json()["detail"]
    accepted = push(manifests)
    assert accepted.status_code == 202, accepted.content
    assert IntakeRun.objects.filter(source=manifests, requested_by=system).count() == 1
    # The same rule in the one check every service calls.
    fresh = type(system).objects.get(pk=system.pk)
    with pytest.raises(PermissionDenied):
        check(fresh, "intake.upload", declarations)
    check(fresh, "intake.upload", manifests)


def test_a_system_account_cannot_sign_in_to_the_pages_a_person_can(system, customs_analyst, client):
    from tests.factories import PASSWORD

    refused = client.post(reverse("login"), {"username": system.username, "password": PASSWORD})
    assert refused.status_code == 200
    assert "system account" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    signed_in = client.post(reverse("login"), {"username": customs_analyst.username, "password": PASSWORD})
    assert signed_in.status_code == 302
