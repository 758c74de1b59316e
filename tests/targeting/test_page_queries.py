"""What the target page, the transition API and the services read once rather than twice (issue 25)
still answers as before: the shortcuts never widen what a person sees or may do."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.events import group_name
from apps.targeting import services
from apps.targeting.models import Comment, HandlingCode, Hold, Target, TargetShare, TargetState
from apps.targeting.queries import known_visible, loaded_through_scope


def test_a_target_loaded_for_one_person_is_asked_for_again_for_another(
    customs_supervisor, police_liaison, make_target
):
    target = make_target(state="awaiting_approval")
    loaded = loaded_through_scope(
        Target.objects.visible_to(customs_supervisor).get(pk=target.pk), customs_supervisor
    )
    assert known_visible(loaded, customs_supervisor) is True
    assert known_visible(loaded, police_liaison) is None
    # Another agency's person acting on the object one of customs loaded: not in his scope, as ever.
    with pytest.raises(Http404):
        services.approve_target(actor=police_liaison, target=loaded, expected_version=1)
    assert Target.objects.get(pk=target.pk).state == TargetState.AWAITING_APPROVAL


def test_a_target_loaded_through_the_scope_still_needs_the_right_role(customs_analyst, make_target):
    target = make_target(state="awaiting_approval")
    loaded = loaded_through_scope(
        Target.objects.visible_to(customs_analyst).get(pk=target.pk), customs_analyst
    )
    with pytest.raises(PermissionDenied):
        services.approve_target(actor=customs_analyst, target=loaded, expected_version=1)
    assert Target.objects.get(pk=target.pk).state == TargetState.AWAITING_APPROVAL


def _page(client, target) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("targeting:detail", args=[target.pk]))
    assert response.status_code == 200
    return response.content.decode(), len(queries.captured_queries)


def test_empty_panels_cost_no_query_and_full_ones_show_what_they_did(
    client_for, customs_analyst, customs_supervisor, make_target, world
):
    client = client_for(customs_analyst)
    bare = make_target(state="approved")
    _page(client, bare)  # the first page of a process reads what every later one has cached
    bare_page, bare_queries = _page(client, bare)
    assert "No holds." in bare_page and "No comments yet." in bare_page

    full = make_target(state="approved")
    TargetShare.objects.create(target=full, agency=world.police, code=HandlingCode.SEE)
    Hold.objects.create(target=full, agency=world.customs, placed_by=customs_supervisor, reason="Stand off")
    Comment.objects.create(
        target=full, author=customs_analyst, owner_agency=world.customs, body="Seal number differs"
    )
    full_page, full_queries = _page(client, full)
    assert "No holds." not in full_page and "Stand off" in full_page
    assert "Seal number differs" in full_page and "No comments yet." not in full_page
    assert '<span class="badge">POL</span>' in full_page
    assert bare_queries < full_queries


def test_a_partner_reads_no_more_of_full_panels_than_before(
    client_for, customs_supervisor, police_liaison, make_target, world
):
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    Hold.objects.create(
        target=target, agency=world.customs, placed_by=customs_supervisor, reason="Covert lead"
    )
    Comment.objects.create(
        target=target, author=customs_supervisor, owner_agency=world.customs, body="Only for customs"
    )
    page, _ = _page(client_for(police_liaison), target)
    assert "Covert lead" not in page and "Only for customs" not in page
    assert "Customs Administration" in page  # that it is held, and by whom, every viewer reads


def test_the_api_answers_a_move_with_the_row_it_made_and_tells_every_sharing_agency(
    client_for, customs_supervisor, make_target, world, monkeypatch
):
    told: list[str] = []
    monkeypatch.setattr(
        "apps.targeting.services.moves.publish_many_on_commit", lambda groups, *a, **k: told.extend(groups)
    )
    target = make_target(state="awaiting_approval", claimed_by=customs_supervisor)
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    response = client_for(customs_supervisor).post(
        f"/api/v1/targets/{target.pk}/transitions/",
        {"action": "approve", "expected_version": 1, "reason": "ok"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    saved = Target.objects.get(pk=target.pk)
    assert (body["state"], body["version"], body["claimed_by"]) == ("approved", 2, None)
    assert (saved.state, saved.version, saved.claimed_by_id) == ("approved", 2, None)
    assert body["updated_at"].startswith(saved.updated_at.isoformat()[:19])
    assert body["shared_with"] == [{"agency": "POL", "code": "see"}]
    assert group_name("agency", world.police.pk) in told and group_name("agency", world.customs.pk) in told


def test_a_review_answers_with_its_new_claimant(client_for, customs_analyst, make_target):
    target = make_target(state="nominated")
    response = client_for(customs_analyst).post(
        f"/api/v1/targets/{target.pk}/transitions/",
        {"action": "start_review", "expected_version": 1},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["claimed_by"] == customs_analyst.username
    assert Target.objects.get(pk=target.pk).claimed_by_id == customs_analyst.pk
