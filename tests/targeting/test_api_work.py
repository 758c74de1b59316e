"""The targeting API around the targets (``apps/targeting/api_work.py``): comments and attachments,
sharing and consent, joint operations, dispatch proposals. Each endpoint is checked for the role that
may (it works, and the page shows it), the role or agency that may not (403, or 404 when the object is
outside its scope), and objects of a target that is not shared (404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.agencies.roles import Role
from apps.targeting import services
from apps.targeting.models import (
    Comment,
    DispatchProposal,
    HandlingCode,
    Instruction,
    JointOperation,
    Target,
    TargetShare,
    TargetState,
)
from tests.factories import PortCapacityFactory, member

JSON = "application/json"


def items(response: Any) -> list[dict[str, Any]]:
    """The items of a list answer, paginated (``results``) or not."""
    assert response.status_code == 200, response.content[:300]
    data = response.json()
    return data["results"] if isinstance(data, dict) else data


def ids(response: Any) -> list[int]:
    return [row["id"] for row in items(response)]


@pytest.fixture
def customs_manager(world):
    return member("maria", world.customs, Role.MANAGER)


# --------------------------------------------------------------------------- comments and attachments


def test_a_comment_posted_through_the_api_shows_on_the_target_page(
    client_for, customs_analyst, police_liaison, make_target, world
):
    target = make_target()
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    client = client_for(customs_analyst)
    posted = client.post(
        reverse("target-comment-list"),
        {"target": target.pk, "body": "Consignee changed twice this month @paula"},
        content_type=JSON,
    )
    assert posted.status_code == 201
    data = posted.json()
    assert data["target"] == target.pk and data["agency"] == "CUS" and data["mentions"] == ["paula"]
    assert data["own_agency_only"] is False and data["shared_with"] == ["POL"]
    # The partner agency reads it on the page, as the target's page renders comments.
    liaison = client_for(police_liaison)
    page = liaison.get(reverse("targeting:detail", args=[target.pk]))
    assert "Consignee changed twice this month" in page.content.decode()
    assert ids(liaison.get(reverse("target-comment-list"), {"target": target.pk})) == [data["id"]]


def test_a_private_comment_stays_within_its_agency(
    client_for, customs_analyst, customs_supervisor, police_liaison, make_target, world
):
    target = make_target()
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    posted = client_for(customs_analyst).post(
        reverse("target-comment-list"), {"target": target.pk, "body": "Informant says", "private": True},
        content_type=JSON,
    )  # fmt: skip
    assert posted.status_code == 201 and posted.json()["own_agency_only"] is True
    url = reverse("target-comment-detail", args=[posted.json()["id"]])
    assert client_for(customs_supervisor).get(url).status_code == 200
    liaison = client_for(police_liaison)
    assert liaison.get(url).status_code == 404
    assert "Informant says" not in liaison.get(reverse("targeting:detail", args=[target.pk])).content.decode()


def test_comment_roles_and_scope(client_for, customs_manager, outsider, police_liaison, make_target, world):
    target = make_target()
    comment = services.add_comment(
        actor=member("al", world.customs, Role.ANALYST), target=target, body="Note"
    )
    body = {"target": target.pk, "body": "Me too"}
    # A manager reads comments but may not write one (the service's check, as on the page).
    manager = client_for(customs_manager)
    assert manager.get(reverse("target-comment-detail", args=[comment.pk])).status_code == 200
    assert manager.post(reverse("target-comment-list"), body, content_type=JSON).status_code == 403
    # An agency the target is not shared with: neither the comment nor the target exists for it.
    for person in (police_liaison, outsider):
        client = client_for(person)
        assert client.get(reverse("target-comment-detail", args=[comment.pk])).status_code == 404
        assert items(client.get(reverse("target-comment-list"), {"target": target.pk})) == []
        assert client.post(reverse("target-comment-list"), body, content_type=JSON).status_code == 404
    assert Comment.objects.count() == 1


def test_attachments_upload_with_the_comment_and_download_as_from_the_page(
    client_for, customs_analyst, police_liaison, make_target, world
):
    target = make_target()
    client = client_for(customs_analyst)
    upload = SimpleUploadedFile("manifest.csv", b"container,seal\nMSKU1,123\n", content_type="text/csv")
    posted = client.post(
        reverse("target-comment-list"), {"target": target.pk, "body": "The manifest", "attachments": [upload]}
    )
    assert posted.status_code == 201, posted.content
    [attachment] = posted.json()["attachments"]
    assert (attachment["name"], attachment["content_type"], attachment["size"]) == (
        "manifest.csv",
        "text/csv",
        25,
    )
    downloaded = client.get(reverse("target-attachment-download", args=[attachment["id"]]))
    assert (
        downloaded.status_code == 200
        and b"".join(downloaded.streaming_content) == b"container,seal\nMSKU1,123\n"
    )
    # The same file through the target page's link, and the page lists it.
    page_file = client.get(reverse("targeting:attachment", args=[attachment["id"]]))
    assert b"".join(page_file.streaming_content) == b"container,seal\nMSKU1,123\n"
    assert "manifest.csv" in client.get(reverse("targeting:detail", args=[target.pk])).content.decode()
    assert ids(client.get(reverse("target-attachment-list"), {"comment__target": target.pk})) == [
        attachment["id"]
    ]
    # The target is not shared with the police: its files do not exist for them.
    liaison = client_for(police_liaison)
    for name in ("target-attachment-detail", "target-attachment-download"):
        assert liaison.get(reverse(name, args=[attachment["id"]])).status_code == 404
    assert items(liaison.get(reverse("target-attachment-list"))) == []


def test_an_attachment_the_page_would_refuse_is_refused(client_for, customs_analyst, make_target):
    target = make_target()
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not a png", content_type="image/png")
    answer = client_for(customs_analyst).post(
        reverse("target-comment-list"), {"target": target.pk, "body": "Photo", "attachments": [fake]}
    )
    assert answer.status_code == 400 and "attachment" in answer.content.decode()
    assert not Comment.objects.exists()


def test_a_port_officer_reads_comments_of_his_ports_targets_without_the_sharing(
    client_for, customs_analyst, port_officer, make_target, world
):
    here = make_target(state="dispatched")
    TargetShare.objects.create(target=here, agency=world.police, code=HandlingCode.SEE)
    elsewhere = make_target(state="dispatched", port=world.port_b)
    for target in (here, elsewhere):
        services.add_comment(actor=customs_analyst, target=target, body=f"Look at {target.reference}")
    rows = items(client_for(port_officer).get(reverse("target-comment-list")))
    assert [r["target"] for r in rows] == [here.pk]
    assert rows[0]["shared_with"] == []  # the page shows him no sharing


# --------------------------------------------------------------------------- sharing and consent


def test_sharing_through_the_api_opens_the_target_to_the_agency_as_the_page_does(
    client_for, customs_analyst, police_liaison, make_target, world
):
    target = make_target()
    liaison = client_for(police_liaison)
    assert liaison.get(reverse("target-detail", args=[target.pk])).status_code == 404
    assert liaison.get(reverse("targeting:detail", args=[target.pk])).status_code == 404
    shared = client_for(customs_analyst).post(
        reverse("target-share-list"), {"target": target.pk, "agency": "POL", "code": "see"}, content_type=JSON
    )
    assert shared.status_code == 201
    assert (shared.json()["agency"], shared.json()["code"], shared.json()["may_act"]) == ("POL", "see", False)
    liaison = client_for(police_liaison)
    assert liaison.get(reverse("target-detail", args=[target.pk])).status_code == 200
    assert liaison.get(reverse("targeting:detail", args=[target.pk])).status_code == 200
    assert ids(liaison.get(reverse("target-share-list"), {"target": target.pk})) == [shared.json()["id"]]
    target.refresh_from_db()
    assert target.version == 2 and "Shared with POL" in target.transitions.last().reason


def test_sharing_roles_and_scope(
    client_for, customs_manager, outsider, police_liaison, port_officer, make_target, world
):
    target = make_target(state="dispatched")
    share = TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    body = {"target": target.pk, "agency": "BIO", "code": "see"}
    # A manager sees the sharing, but may not share.
    manager = client_for(customs_manager)
    assert manager.get(reverse("target-share-detail", args=[share.pk])).status_code == 200
    assert manager.post(reverse("target-share-list"), body, content_type=JSON).status_code == 403
    # The police may see, not pass on.
    liaison = client_for(police_liaison)
    assert liaison.post(reverse("target-share-list"), body, content_type=JSON).status_code == 403
    # The officer at the port reads the target, but the page shows him no sharing: neither does the API.
    officer = client_for(port_officer)
    assert officer.get(reverse("target-detail", args=[target.pk])).status_code == 200
    assert items(officer.get(reverse("target-share-list"))) == []
    assert officer.get(reverse("target-share-detail", args=[share.pk])).status_code == 404
    assert officer.post(reverse("target-share-list"), body, content_type=JSON).status_code == 403
    # An agency the target is not shared with.
    stranger = client_for(outsider)
    assert stranger.get(reverse("target-share-detail", args=[share.pk])).status_code == 404
    assert stranger.post(reverse("target-share-list"), body, content_type=JSON).status_code == 404
    assert (
        stranger.post(reverse("target-share-consent", args=[share.pk]), {}, content_type=JSON).status_code
        == 404
    )
    assert not TargetShare.objects.filter(agency=world.bio).exists()


def test_consent_through_the_api_lets_the_partner_act(
    client_for, customs_analyst, police_liaison, make_target, world
):
    target = make_target()
    share = client_for(customs_analyst).post(
        reverse("target-share-list"), {"target": target.pk, "agency": "POL", "code": "consent"}, content_type=JSON
    ).json()  # fmt: skip
    assert share["consent_required"] and not share["may_act"]
    liaison = client_for(police_liaison)
    assert liaison.post(reverse("target-claim", args=[target.pk])).status_code == 403
    consent_url = reverse("target-share-consent", args=[share["id"]])
    assert liaison.post(consent_url, {"reason": "Ours now"}, content_type=JSON).status_code == 403
    given = client_for(customs_analyst).post(consent_url, {"reason": "Agreed by phone"}, content_type=JSON)
    assert (
        given.status_code == 200
        and given.json()["may_act"]
        and given.json()["consent_given_by"] == customs_analyst.get_full_name()
    )
    assert client_for(customs_analyst).post(consent_url, {}, content_type=JSON).status_code == 409
    liaison = client_for(police_liaison)
    assert liaison.post(reverse("target-claim", args=[target.pk])).json()["claimed_by"] == "paula"


def test_consent_is_only_for_a_share_that_waits_for_it(client_for, customs_analyst, make_target, world):
    target = make_target()
    share = TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    answer = client_for(customs_analyst).post(
        reverse("target-share-consent", args=[share.pk]), {}, content_type=JSON
    )
    assert answer.status_code == 400
    share.refresh_from_db()
    assert share.consent_given_at is None


# --------------------------------------------------------------------------- joint operations

WINDOW = {"starts_at": "2026-01-01T08:00:00Z", "ends_at": "2026-02-01T08:00:00Z"}


def test_joint_operations_through_the_api(
    client_for, customs_analyst, police_liaison, outsider, make_target, world
):
    client = client_for(customs_analyst)
    created = client.post(
        reverse("joint-operation-list"), {"name": "Lantern", "agencies": ["POL"], **WINDOW}, content_type=JSON
    )
    assert created.status_code == 201
    op = created.json()
    assert (op["owner_agency"], op["agencies"], [m["name"] for m in op["members"]]) == (
        "CUS",
        ["POL"],
        [customs_analyst.get_full_name()],
    )
    # The partner taking part sees it, on the page too; an agency not taking part does not.
    assert ids(client_for(police_liaison).get(reverse("joint-operation-list"))) == [op["id"]]
    assert "Lantern" in client_for(police_liaison).get(reverse("targeting:operations")).content.decode()
    stranger = client_for(outsider)
    assert items(stranger.get(reverse("joint-operation-list"))) == []
    for name in ("joint-operation-detail", "joint-operation-targets"):
        assert stranger.get(reverse(name, args=[op["id"]])).status_code == 404
    bad = client.post(reverse("joint-operation-list"), {"name": "Late", "starts_at": WINDOW["ends_at"],
                                                        "ends_at": WINDOW["starts_at"]}, content_type=JSON)  # fmt: skip
    assert bad.status_code == 400 and "ends_at" in bad.content.decode()


def test_adding_a_target_to_an_operation(
    client_for, customs_analyst, police_liaison, outsider, customs_manager, make_target, world
):
    operation = services.create_operation(actor=customs_analyst, name="Lantern", agencies=[world.police],
                                           starts_at=WINDOW["starts_at"], ends_at=WINDOW["ends_at"])  # fmt: skip
    ours, unshared = make_target(), make_target()
    TargetShare.objects.create(target=ours, agency=world.police, code=HandlingCode.ACT)
    url = reverse("joint-operation-targets", args=[operation.pk])
    added = client_for(customs_analyst).post(url, {"target": ours.pk}, content_type=JSON)
    assert added.status_code == 200 and added.json()["reference"] == ours.reference
    ours.refresh_from_db()
    assert ours.operation_id == operation.pk
    assert (
        ours.reference
        in client_for(customs_analyst)
        .get(reverse("targeting:operation", args=[operation.pk]))
        .content.decode()
    )
    # The police take part and see the target in the operation, but only the owner agency adds one.
    liaison = client_for(police_liaison)
    assert ids(liaison.get(url)) == [ours.pk]
    # The operations' own filters and ordering are not the target list's: they neither hide the operation
    # nor order its targets (a target has no ``starts_at``).
    assert ids(liaison.get(url, {"owner_agency": world.police.pk, "ordering": "starts_at"})) == [ours.pk]
    assert liaison.post(url, {"target": ours.pk}, content_type=JSON).status_code == 403
    assert liaison.post(url, {"target": unshared.pk}, content_type=JSON).status_code == 404
    assert (
        client_for(customs_manager).post(url, {"target": unshared.pk}, content_type=JSON).status_code == 403
    )
    assert client_for(outsider).post(url, {"target": unshared.pk}, content_type=JSON).status_code == 404
    unshared.refresh_from_db()
    assert unshared.operation_id is None


def test_opening_an_operation_needs_a_role_that_shares(client_for, customs_manager, port_officer):
    for person in (customs_manager, port_officer):
        answer = client_for(person).post(
            reverse("joint-operation-list"), {"name": "X", **WINDOW}, content_type=JSON
        )
        assert answer.status_code == 403
    assert not JointOperation.objects.exists()


# --------------------------------------------------------------------------- dispatch proposals


@pytest.fixture
def capacity(world):
    for port in (world.port_a, world.port_b):
        PortCapacityFactory(port=port, shift="early", method="physical", slots=2)
        PortCapacityFactory(port=port, shift="early", method="interview", slots=1)


def _outcome(proposal: DispatchProposal) -> tuple[Any, ...]:
    """What accepting a proposal did: who accepted it, and each target's state and instruction."""
    proposal.refresh_from_db()
    rows = []
    for row in proposal.selected:
        target = Target.objects.get(pk=row["target"])
        instruction = Instruction.objects.get(target=target)
        rows.append((target.state, target.version, instruction.method == row["method"], instruction.shift,
                     instruction.proposal_id == proposal.pk,
                     instruction.instruction == services.default_instruction(target, proposal.accepted_by)))  # fmt: skip
    return proposal.accepted_by.username, sorted(rows)


def test_a_proposal_accepted_through_the_api_dispatches_as_the_page_does(
    client_for, customs_supervisor, make_target, world, capacity
):
    for port in (world.port_a, world.port_b):
        make_target(state="approved", score=0.9, port=port, reasons=[])
        make_target(state="approved", score=0.5, port=port, risk_area="weapons", reasons=[])
        make_target(state="approved", score=0.1, port=port, reasons=[])
    client = client_for(customs_supervisor)
    proposed = client.post(
        reverse("dispatch-proposal-list"), {"port": "GBFXT", "shift": "early"}, content_type=JSON
    )
    assert proposed.status_code == 201
    data = proposed.json()
    assert (
        len(data["selected"]) == 2
        and len(data["left_out"]) == 1
        and "Capacity full" in data["left_out"][0]["reason"]
    )
    assert all(row["instruction"] for row in data["selected"])
    accepted = client.post(reverse("dispatch-proposal-accept", args=[data["id"]]), {}, content_type=JSON)
    assert accepted.status_code == 200
    assert accepted.json()["problems"] == [] and len(accepted.json()["instructions"]) == 2
    assert accepted.json()["proposal"]["accepted_by"] == customs_supervisor.get_full_name()
    # The same proposal for the other port, accepted from the dispatch page as it is offered.
    services.propose_dispatch(actor=customs_supervisor, port=world.port_b, shift="early")
    page_proposal = DispatchProposal.objects.get(port=world.port_b)
    page = client.get(reverse("targeting:dispatch"), {"port": "GBLHR", "shift": "early"}).content.decode()
    form = {"port": "GBLHR", "shift": "early", "proposal": page_proposal.pk}
    for row in page_proposal.selected:
        form[f"method-{row['target']}"] = row["method"]
        form[f"instruction-{row['target']}"] = page.split(f'data-testid="instruction-{row["target"]}">')[
            1
        ].split("<")[0]
    client.post(reverse("targeting:dispatch_accept"), form)
    api_outcome = _outcome(DispatchProposal.objects.get(pk=data["id"]))
    assert api_outcome == _outcome(page_proposal)
    assert [r[0] for r in api_outcome[1]] == [TargetState.DISPATCHED] * 2 and all(
        all(r[2:]) for r in api_outcome[1]
    )
    # Accepted once: a second acceptance is a conflict, as on the page.
    assert (
        client.post(reverse("dispatch-proposal-accept", args=[data["id"]]), {}, content_type=JSON).status_code
        == 409
    )


def test_accepting_an_edited_proposal_checks_capacity(client_for, customs_supervisor, make_target, capacity):
    first, second = make_target(state="approved", score=0.9), make_target(state="approved", score=0.8)
    client = client_for(customs_supervisor)
    proposal = client.post(
        reverse("dispatch-proposal-list"), {"port": "GBFXT", "shift": "early"}, content_type=JSON
    ).json()
    url = reverse("dispatch-proposal-accept", args=[proposal["id"]])
    over = client.post(
        url, {"choices": {str(first.pk): "interview", str(second.pk): "interview"}}, content_type=JSON
    )
    assert over.status_code == 400 and "choices" in over.content.decode()
    edited = client.post(url, {"choices": {str(second.pk): "interview"}, "instructions": {str(second.pk): "Ask about the route"}},
                         content_type=JSON)  # fmt: skip
    assert edited.status_code == 200
    assert [(i["target"], i["method"], i["instruction"]) for i in edited.json()["instructions"]] == [
        (second.pk, "interview", "Ask about the route")
    ]
    first.refresh_from_db()
    assert first.state == TargetState.APPROVED


def test_proposal_roles_and_scope(
    client_for,
    customs_analyst,
    customs_supervisor,
    police_liaison,
    port_officer,
    make_target,
    world,
    capacity,
):
    make_target(state="approved", score=0.9)
    body = {"port": "GBFXT", "shift": "early"}
    for person in (customs_analyst, port_officer):
        assert (
            client_for(person).post(reverse("dispatch-proposal-list"), body, content_type=JSON).status_code
            == 403
        )
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    # Another agency: the proposal does not exist for it.
    police = member("pete", world.police, Role.SUPERVISOR)
    for person in (police_liaison, police):
        client = client_for(person)
        assert client.get(reverse("dispatch-proposal-detail", args=[proposal.pk])).status_code == 404
        assert items(client.get(reverse("dispatch-proposal-list"))) == []
    assert client_for(police).post(reverse("dispatch-proposal-accept", args=[proposal.pk]), {},
                                   content_type=JSON).status_code == 404  # fmt: skip
    # A customs analyst reads it (as the dispatch page shows it to him) but may not accept it.
    analyst = client_for(customs_analyst)
    read = analyst.get(reverse("dispatch-proposal-detail", args=[proposal.pk]))
    assert read.status_code == 200 and [r["instruction"] for r in read.json()["selected"]] == [None]
    assert (
        analyst.post(
            reverse("dispatch-proposal-accept", args=[proposal.pk]), {}, content_type=JSON
        ).status_code
        == 403
    )
    proposal.refresh_from_db()
    assert proposal.accepted_at is None


def test_an_officer_at_the_port_is_not_told_what_was_drawn_at_random(
    client_for, customs_supervisor, port_officer, make_target, world, capacity
):
    target = make_target(state="approved", score=0.9, random_control=True)
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    services.accept_proposal(actor=customs_supervisor, proposal=proposal)
    supervisor_row = (
        client_for(customs_supervisor)
        .get(reverse("dispatch-proposal-detail", args=[proposal.pk]))
        .json()["selected"][0]
    )
    assert supervisor_row["target"] == target.pk and supervisor_row["random"] is True
    # The officer works from his instructions: the proposal (which names the draws) is not his to read.
    officer = client_for(port_officer)
    assert officer.get(reverse("dispatch-proposal-detail", args=[proposal.pk])).status_code == 404
    assert officer.get(reverse("dispatch-proposal-list")).json()["results"] == []
