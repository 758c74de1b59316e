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


def test_a_target_without_partner_sightings_asks_for_none(client_for, customs_analyst, make_target):
    """Whether a target has any partner sighting comes with the target (``register_panel``): a page of a
    target with none reads no sighting; one with a sighting shows it (``tests/alerts/test_views.py``)."""
    target = make_target(state="approved")
    client = client_for(customs_analyst)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("targeting:detail", args=[target.pk])).status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if s.startswith('SELECT "alerts_partnersighting"')]
    loads = [s for s in statements if s.startswith('SELECT "targeting_target"."id"')]
    assert any('FROM "alerts_partnersighting"' in s for s in loads)  # asked inside the target's query


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


def _access_entries_of(requests) -> tuple[list, list[str]]:
    from apps.compliance.models import AccessLogEntry

    before = set(AccessLogEntry.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        for request in requests:
            assert request().status_code == 200
    entries = list(AccessLogEntry.objects.exclude(pk__in=before).order_by("pk"))
    return entries, [q["sql"] for q in queries.captured_queries]


def test_the_page_and_the_api_take_their_access_log_key_with_the_target(
    client_for, customs_analyst, customs_supervisor, make_target
):
    """On PostgreSQL the query that loads the route's target also takes the key of the access-log entry
    the gate writes after the view (no ``SELECT nextval`` of the log's own); each answer still writes one
    entry, with the same fields and a MAC that verifies; SQLite keys it as before."""
    from apps.compliance import anchors
    from apps.compliance.chain import seal
    from apps.compliance.models import AccessLogEntry
    from apps.compliance.verification import verify_chain

    page, moved = make_target(state="approved"), make_target(state="awaiting_approval")
    url = f"/api/v1/targets/{moved.pk}/transitions/"
    body = {"action": "approve", "expected_version": 1, "reason": "ok"}
    entries, statements = _access_entries_of([
        lambda: client_for(customs_analyst).get(reverse("targeting:detail", args=[page.pk])),
        lambda: client_for(customs_supervisor).post(url, body, content_type="application/json"),
    ])  # fmt: skip
    assert [(e.action, e.object_type, e.object_id) for e in entries] == [
        ("view", "target", str(page.pk)), ("view", "target", str(moved.pk))
    ]  # fmt: skip
    assert [e.user_id for e in entries] == [customs_analyst.pk, customs_supervisor.pk]
    assert all(e.mac == e.compute_mac(anchors.chain_keys()[e.key_id]) for e in entries)
    assert sum(s.startswith('INSERT INTO "compliance_accesslogentry"') for s in statements) == 2
    if connection.vendor == "postgresql":
        assert not any(s.startswith("SELECT nextval") for s in statements)
        loads = [s for s in statements if s.startswith('SELECT "targeting_target"."id"')]
        assert sum("compliance_accesslogentry" in s for s in loads) == 2  # one per route's target
    seal(AccessLogEntry, wait=True)
    assert verify_chain(AccessLogEntry).ok


def test_a_target_outside_the_scope_writes_no_entry_and_takes_no_key(client_for, police_liaison, make_target):
    from apps.compliance.models import AccessLogEntry

    target = make_target(state="approved")  # customs', not shared with the police
    before = AccessLogEntry.objects.count()
    assert client_for(police_liaison).get(reverse("targeting:detail", args=[target.pk])).status_code == 404
    assert client_for(police_liaison).get(f"/api/v1/targets/{target.pk}/").status_code == 404
    assert AccessLogEntry.objects.count() == before


def _submitted_by(actor, world) -> Target:
    from tests.targeting.factories import SubjectFactory

    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    target = services.nominate_target(
        actor=actor, subject=subject, risk_area="narcotics", reasons=[], reason="Tip"
    )
    services.start_review(actor=actor, target=target)
    return services.submit_for_approval(actor=actor, target=target)


def _approve(client, target):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/api/v1/targets/{target.pk}/transitions/",
            {"action": "approve", "expected_version": target.version, "reason": "ok"},
            content_type="application/json",
        )
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_move_through_the_api_reads_its_checks_with_the_target(client_for, customs_supervisor, make_target):
    """On PostgreSQL the proposers (four eyes), the centre's configuration and the subject's latest
    assessment come in the one query that loads the target: no statement of their own."""
    from apps.agencies.models import CentreConfiguration

    CentreConfiguration.current()  # the centre's row exists (the first read of a new centre makes it)
    response, statements = _approve(client_for(customs_supervisor), make_target(state="awaiting_approval"))
    assert response.status_code == 200, response.content
    own = [
        s for s in statements
        if s.startswith(('SELECT "agencies_centreconfiguration"', 'SELECT "risk_assessment"'))
        or (s.startswith('SELECT "targeting_transition"."actor_id"'))
    ]  # fmt: skip
    assert own == [] if connection.vendor == "postgresql" else len(own) == 3


def test_four_eyes_through_the_api_reads_the_proposers_and_configuration_in_force(
    client_for, customs_supervisor, world
):
    from apps.agencies.models import CentreConfiguration, Role
    from tests.factories import member

    target = _submitted_by(customs_supervisor, world)
    response, _ = _approve(client_for(customs_supervisor), target)
    assert response.status_code == 403 and "Four eyes" in response.json()["detail"]
    config = CentreConfiguration.current()
    setattr(config, f"four_eyes_{config.operating_model}", False)
    config.save()
    response, _ = _approve(client_for(customs_supervisor), target)
    assert response.status_code == 200, response.content
    other = _submitted_by(customs_supervisor, world)
    setattr(config, f"four_eyes_{config.operating_model}", True)
    config.save()
    assert _approve(client_for(customs_supervisor), other)[0].status_code == 403
    bella = member("bella", world.customs, Role.SUPERVISOR)
    assert _approve(client_for(bella), other)[0].status_code == 200


def test_what_a_move_reads_with_its_target_is_what_its_checks_would_read(customs_supervisor, world):
    from apps.agencies.models import CentreConfiguration
    from apps.risk.models import Assessment, Channel
    from apps.targeting.queries import move_context, take_move_context
    from apps.targeting.routing import _CONFIG, proposers_of
    from apps.watchlists.rulings import _latest_assessment_id

    target = _submitted_by(customs_supervisor, world)
    for score in (0.2, 0.4):
        Assessment.objects.create(subject=target.subject, score=score, channel=Channel.values[0])

    def load() -> Target:
        return Target.objects.select_related("subject").annotate(**move_context()).get(pk=target.pk)

    loaded, fresh = take_move_context(load()), Target.objects.select_related("subject").get(pk=target.pk)
    assert proposers_of(loaded) == proposers_of(fresh) == {customs_supervisor.pk}
    latest = _latest_assessment_id(fresh.subject)
    assert latest == Assessment.objects.order_by("-created_at", "-pk").first().pk
    assert _latest_assessment_id(loaded.subject) == latest
    if connection.vendor == "postgresql":
        config, current = loaded.__dict__[_CONFIG], CentreConfiguration.current()
        assert [getattr(config, f.attname) for f in config._meta.concrete_fields] == [
            getattr(current, f.attname) for f in current._meta.concrete_fields
        ]
        Assessment.objects.all().delete()
        assert _latest_assessment_id(take_move_context(load()).subject) is None  # none: no query, none
    else:
        assert _CONFIG not in loaded.__dict__  # SQLite: each is read by itself, as before


def test_a_partner_moves_through_the_api_only_as_the_shares_read_with_the_target_allow(
    client_for, customs_analyst, police_liaison, make_target, world
):
    """The shares a move reads with its target (PostgreSQL) decide as their own query did: a share
    awaiting the owner's consent does not let the partner act, the same share once consented does; the
    answer lists them, and a stale version is still refused."""
    target = make_target()
    share = TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.CONSENT)

    def withdraw(version: int):
        return client_for(police_liaison).post(
            f"/api/v1/targets/{target.pk}/transitions/",
            {"action": "withdraw", "expected_version": version, "reason": "Ours"},
            content_type="application/json",
        )

    assert withdraw(1).status_code == 403
    services.give_consent(actor=customs_analyst, share=share, reason="Agreed by phone")
    version = Target.objects.get(pk=target.pk).version
    assert version > 1  # giving consent raised it: a move against the old version is stale
    assert withdraw(1).status_code == 409
    response = withdraw(version)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == TargetState.WITHDRAWN
    assert response.json()["shared_with"] == [{"agency": "POL", "code": "consent"}]


def test_the_page_names_who_works_a_claimed_target_and_no_one_otherwise(
    client_for, customs_analyst, make_target
):
    """Who claimed a target is read only when someone has (not joined with every target's read): the
    page names him all the same, and an unclaimed target's page reads nobody."""
    client = client_for(customs_analyst)
    free = make_target(state="approved")
    claimed = make_target(state="approved")
    services.claim_target(actor=customs_analyst, target=claimed)
    _page(client, free)
    free_page, free_queries = _page(client, free)
    claimed_page, claimed_queries = _page(client, claimed)
    assert "Worked by" not in free_page
    assert (
        "Worked by" in claimed_page
        and customs_analyst.get_full_name() in claimed_page.split("Worked by", 1)[1][:200]
    )
    assert claimed_queries == free_queries + 1  # the holder, and only for the claimed one
