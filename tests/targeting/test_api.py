"""The targeting API: the same scoping and the same services as the pages."""

from __future__ import annotations

from django.urls import reverse

from apps.targeting.models import HandlingCode, Hold, TargetShare, TargetState
from tests.targeting.factories import SubjectFactory, TravellerFactory


def test_targets_are_listed_and_retrieved_within_scope(client_for, police_liaison, make_target, world):
    traveller = TravellerFactory(source__owner_agency=world.customs)
    shared, unshared = make_target(subject=traveller), make_target()
    TargetShare.objects.create(target=shared, agency=world.police, code=HandlingCode.SEE)
    client = client_for(police_liaison)
    listed = client.get(reverse("target-list")).json()["results"]
    assert [t["id"] for t in listed] == [shared.pk]
    data = client.get(reverse("target-detail", args=[shared.pk])).json()
    assert data["subject"]["masked"] and traveller.title not in str(data) and data["subject"]["facts"] == {}
    for name in ("target-detail", "target-transitions", "target-claim"):
        assert client.get(reverse(name, args=[unshared.pk])).status_code == 404


def test_transitions_through_the_api_check_role_and_version(
    client_for, customs_analyst, customs_supervisor, make_target
):
    target = make_target(state="awaiting_approval")
    url = reverse("target-transitions", args=[target.pk])
    analyst = client_for(customs_analyst)
    assert (
        analyst.post(
            url, {"action": "approve", "expected_version": 1}, content_type="application/json"
        ).status_code
        == 403
    )
    supervisor = client_for(customs_supervisor)
    assert supervisor.get(url).json()["allowed"] == ["approve", "reject", "withdraw"]
    ok = supervisor.post(
        url, {"action": "approve", "expected_version": 1, "reason": "Strong"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["state"] == "approved" and ok.json()["version"] == 2
    stale = supervisor.post(
        url, {"action": "withdraw", "expected_version": 1, "reason": "x"}, content_type="application/json"
    )
    assert stale.status_code == 409 and "Reload" in stale.json()["detail"]
    history = supervisor.get(url).json()["history"]
    assert [(h["from_state"], h["to_state"]) for h in history][-1] == ("awaiting_approval", "approved")


def test_nominate_claim_and_queues_through_the_api(client_for, customs_analyst, world):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    client = client_for(customs_analyst)
    created = client.post(reverse("target-list"), {"subject": subject.pk, "risk_area": "revenue", "reason": "Undervalued"},
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201
    pk = created.json()["id"]
    assert client.post(reverse("target-claim", args=[pk])).json()["claimed_by"] == "alice"
    queues = client.get(reverse("target-queue-list")).json()
    assert queues["port"][0] == {**queues["port"][0], "key": "GBFXT", "count": 1}
    assert client.delete(reverse("target-claim", args=[pk])).json()["claimed_by"] is None


def test_holds_through_the_api(client_for, police_liaison, customs_supervisor, make_target, world):
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police)
    liaison = client_for(police_liaison)
    placed = liaison.post(reverse("target-hold-list"), {"target": target.pk, "reason": "Controlled delivery"},
                          content_type="application/json")  # fmt: skip
    assert placed.status_code == 201
    hold_url = reverse("target-hold-detail", args=[placed.json()["id"]])
    supervisor = client_for(customs_supervisor)
    dispatch = supervisor.post(reverse("target-transitions", args=[target.pk]),
                               {"action": "dispatch", "expected_version": 2, "method": "scan", "instruction": "x"},
                               content_type="application/json")  # fmt: skip
    assert dispatch.status_code == 409
    assert (
        supervisor.patch(hold_url, {"release_reason": "no"}, content_type="application/json").status_code
        == 403
    )
    client_for(police_liaison)
    assert (
        liaison.patch(hold_url, {"release_reason": "Done"}, content_type="application/json").status_code
        == 200
    )
    assert Hold.objects.get().released_at is not None
    target.refresh_from_db()
    assert target.state == TargetState.APPROVED


def test_instructions_api_shows_a_port_officer_his_ports_only(
    client_for, port_officer, customs_supervisor, make_target, world
):
    here, there = make_target(state="approved"), make_target(state="approved", port=world.port_b)
    from apps.targeting import services

    for t in (here, there):
        services.dispatch_target(actor=customs_supervisor, target=t, method="dog", instruction="Dog check")
    data = client_for(port_officer).get(reverse("target-instruction-list")).json()["results"]
    assert [row["target"] for row in data] == [here.pk]
