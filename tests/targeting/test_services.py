"""Nomination, routing by operating model, stale changes, claims, holds, sharing, comments, timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from apps.agencies.models import CentreConfiguration
from apps.intake.services import share_source
from apps.targeting import services
from apps.targeting.masking import reasons_view, subject_view
from apps.targeting.models import Comment, HandlingCode, Hold, Target, TargetShare, TargetState
from apps.targeting.tasks import mark_missed_targets
from tests.targeting.factories import SubjectFactory, TravellerFactory

S = TargetState


# --------------------------------------------------------------------------- nomination


def test_an_analyst_nominates_by_hand(world, customs_analyst):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    target = services.nominate_target(
        actor=customs_analyst,
        subject=subject,
        risk_area="narcotics",
        reasons=[],
        reason="Consignee new, cash paid",
    )
    assert target.state == S.NOMINATED and target.owner_agency == world.customs
    assert target.reasons == [{"kind": "person", "text": "Consignee new, cash paid", "ref": ""}]
    assert (target.port, target.arrival_at, target.nominated_by) == (
        world.port_a,
        subject.arrival_at,
        customs_analyst,
    )
    assert target.transitions.get().to_state == S.NOMINATED


def test_the_engine_nominates_without_a_person_for_the_subjects_owner(world):
    subject = SubjectFactory(source__owner_agency=world.customs)
    reasons = [
        {"kind": "rule", "text": "Route risk", "ref": "R-1"},
        {"kind": "model", "text": "0.91", "ref": "m3"},
    ]
    target = services.nominate_target(
        actor=None, subject=subject, risk_area="revenue", reasons=reasons, score=0.91, by_engine=True
    )
    assert target.by_engine and target.owner_agency == world.customs and target.nominated_by is None
    with pytest.raises(PermissionDenied):
        services.nominate_target(actor=None, subject=subject, risk_area="ipr", reasons=reasons)


def test_an_open_target_is_not_nominated_twice(world, customs_analyst):
    subject = SubjectFactory(source__owner_agency=world.customs)
    first = services.nominate_target(
        actor=customs_analyst, subject=subject, risk_area="weapons", reasons=["x"]
    )
    again = services.nominate_target(
        actor=None, subject=subject, risk_area="weapons", reasons=["y"], by_engine=True
    )
    other_area = services.nominate_target(
        actor=customs_analyst, subject=subject, risk_area="revenue", reasons=["z"]
    )
    assert again.pk == first.pk and other_area.pk != first.pk
    assert Target.objects.filter(subject=subject).count() == 2


def test_a_partner_analyst_nominates_what_his_agency_may_see(world, police_analyst, customs_admin):
    subject = SubjectFactory(source__owner_agency=world.customs)
    with pytest.raises(Http404):
        services.nominate_target(
            actor=police_analyst, subject=subject, risk_area="narcotics", reasons=["tip"]
        )
    share_source(actor=customs_admin, source=subject.source, agency=world.police)
    config = CentreConfiguration.current()
    config.national_agency = world.customs
    config.save()
    target = services.nominate_target(
        actor=police_analyst, subject=subject, risk_area="narcotics", reasons=["tip"]
    )
    assert target.owner_agency == world.police
    # The national centre decides, so it is told, and may act.
    assert TargetShare.objects.get(target=target).agency == world.customs


def test_bad_nominations_are_refused_with_the_field_named(world, customs_analyst, port_officer):
    subject = SubjectFactory(source__owner_agency=world.customs)
    with pytest.raises(ValidationError) as error:
        services.nominate_target(actor=customs_analyst, subject=subject, risk_area="magic", reasons=["x"])
    assert "risk_area" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.nominate_target(actor=customs_analyst, subject=subject, risk_area="ipr", reasons=[])
    assert "reasons" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.nominate_target(actor=port_officer, subject=subject, risk_area="ipr", reasons=["x"])
    assert not Target.objects.exists()


# --------------------------------------------------------------------------- routing


def test_centralised_the_national_centre_approves(
    make_target, customs_supervisor, port_supervisor, operating_model
):
    operating_model("centralised")
    target = make_target(state="awaiting_approval")
    with pytest.raises(Http404):  # the port team does not even see the national desk's deliberation
        services.approve_target(actor=port_supervisor, target=target)
    services.approve_target(actor=customs_supervisor, target=target)
    assert target.state == S.APPROVED


def test_decentralised_the_ports_own_team_approves(
    make_target, world, customs_supervisor, port_supervisor, operating_model
):
    operating_model("decentralised")
    target = make_target(state="awaiting_approval")
    with pytest.raises(PermissionDenied, match="Port team GBFXT"):
        services.approve_target(actor=customs_supervisor, target=target)
    elsewhere = make_target(state="awaiting_approval", port=world.port_b)
    with pytest.raises(Http404):  # another port's queue is not Felixstowe's to see
        services.approve_target(actor=port_supervisor, target=elsewhere)
    services.approve_target(actor=port_supervisor, target=target)
    assert target.state == S.APPROVED


def test_hybrid_national_targets_nationally_port_targets_at_the_port(
    make_target, customs_supervisor, port_supervisor, operating_model
):
    operating_model("hybrid")
    national = make_target(state="awaiting_approval", scope="national")
    local = make_target(state="awaiting_approval", scope="port")
    with pytest.raises(Http404):  # a national target reaches the port team once approved
        services.approve_target(actor=port_supervisor, target=national)
    with pytest.raises(PermissionDenied):
        services.approve_target(actor=customs_supervisor, target=local)
    services.approve_target(actor=customs_supervisor, target=national)
    services.approve_target(actor=port_supervisor, target=local)
    assert (national.state, local.state) == (S.APPROVED, S.APPROVED)


def test_changing_the_configuration_reroutes_without_code(make_target, port_supervisor, operating_model):
    target = make_target(state="awaiting_approval")
    operating_model("centralised")
    with pytest.raises(Http404):
        services.approve_target(actor=port_supervisor, target=target)
    operating_model("decentralised")
    services.approve_target(actor=port_supervisor, target=target)
    assert target.state == S.APPROVED


def test_a_nominator_at_a_port_makes_a_port_target(world, port_analyst):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    target = services.nominate_target(actor=port_analyst, subject=subject, risk_area="ipr", reasons=["fakes"])
    assert target.scope == "port"


# --------------------------------------------------------------------------- stale changes and claims


def test_a_stale_change_is_refused_and_says_who_moved_it(make_target, customs_supervisor, world):
    from tests.factories import member

    other = member("sam", world.customs, "supervisor")
    seen_by_bob = make_target(state="awaiting_approval")
    seen_by_sam = Target.objects.get(pk=seen_by_bob.pk)
    services.reject_target(actor=other, target=seen_by_sam, reason="Weak grounds")
    with pytest.raises(services.StaleChange) as error:
        services.approve_target(actor=customs_supervisor, target=seen_by_bob, expected_version=1)
    assert "Test Sam" in str(error.value) and "Rejected" in str(error.value) and "Reload" in str(error.value)
    seen_by_bob.refresh_from_db()
    assert seen_by_bob.state == S.REJECTED and seen_by_bob.transitions.count() == 2


def test_an_old_version_is_refused_even_if_the_state_matches(make_target, customs_supervisor):
    target = make_target(state="awaiting_approval")
    with pytest.raises(services.StaleChange):
        services.approve_target(actor=customs_supervisor, target=target, expected_version=0)


def test_claims_keep_two_people_off_one_target(make_target, customs_analyst, customs_supervisor, world):
    from tests.factories import member

    carol = member("carol", world.customs, "analyst")
    target = make_target()
    services.claim_target(actor=customs_analyst, target=target)
    with pytest.raises(services.StaleChange, match="already being worked by Test Alice"):
        services.claim_target(actor=carol, target=Target.objects.get(pk=target.pk))
    with pytest.raises(services.StaleChange):
        services.start_review(actor=carol, target=Target.objects.get(pk=target.pk))
    with pytest.raises(PermissionDenied):
        services.release_claim(actor=carol, target=Target.objects.get(pk=target.pk))
    services.release_claim(actor=customs_supervisor, target=target)
    services.claim_target(actor=carol, target=target)
    assert target.claimed_by == carol


# --------------------------------------------------------------------------- holds


def test_a_partners_hold_blocks_dispatch_until_the_holder_releases(
    make_target, world, police_liaison, customs_supervisor
):
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    hold = services.place_hold(
        actor=police_liaison, target=target, reason="Do not examine: controlled delivery"
    )
    target.refresh_from_db()
    assert target.state == S.ON_HOLD and target.resume_state == S.APPROVED
    with pytest.raises(services.TransitionRefused, match="held"):
        services.dispatch_target(
            actor=customs_supervisor, target=target, method="scan", instruction="Scan it"
        )
    with pytest.raises(PermissionDenied, match="National Police"):
        services.release_hold(actor=customs_supervisor, hold=hold, reason="We need the slot")
    services.release_hold(actor=police_liaison, hold=hold, reason="Delivery completed")
    target.refresh_from_db()
    assert target.state == S.APPROVED
    hold.refresh_from_db()
    assert (hold.released_by, hold.release_reason) == (police_liaison, "Delivery completed")
    services.dispatch_target(actor=customs_supervisor, target=target, method="scan", instruction="Scan it")
    assert target.state == S.DISPATCHED
    history = list(target.transitions.values_list("from_state", "to_state"))
    assert history[-3:] == [(S.APPROVED, S.ON_HOLD), (S.ON_HOLD, S.APPROVED), (S.APPROVED, S.DISPATCHED)]


def test_holds_by_two_agencies_stack(make_target, world, police_liaison, customs_supervisor):
    target = make_target(state="in_review")
    TargetShare.objects.create(target=target, agency=world.police)
    first = services.place_hold(actor=police_liaison, target=target, reason="Controlled delivery")
    target.refresh_from_db()
    second = services.place_hold(actor=customs_supervisor, target=target, reason="Our own surveillance")
    services.release_hold(actor=police_liaison, hold=first)
    target.refresh_from_db()
    assert target.state == S.ON_HOLD
    services.release_hold(actor=customs_supervisor, hold=second)
    target.refresh_from_db()
    assert target.state == S.IN_REVIEW and Hold.objects.filter(target=target).count() == 2


def test_an_agency_that_cannot_see_the_target_cannot_hold_it(make_target, outsider):
    with pytest.raises(Http404):
        services.place_hold(actor=outsider, target=make_target(), reason="Curious")


# --------------------------------------------------------------------------- sharing and masking


def test_a_liaison_sees_only_what_is_shared(make_target, world, police_liaison, outsider):
    shared, private = make_target(), make_target()
    services.share_target(actor=member_of(world, "customs_analyst2"), target=shared, agency=world.police)
    assert list(Target.objects.visible_to(police_liaison)) == [shared]
    assert not Target.objects.visible_to(outsider).exists()
    assert private.pk not in Target.objects.visible_to(police_liaison).values_list("pk", flat=True)


def member_of(world, username):
    from tests.factories import member

    return member(username, world.customs, "analyst")


def test_a_partner_not_granted_the_source_sees_non_personal_fields_only(
    world, police_liaison, customs_admin, make_target
):
    traveller = TravellerFactory(source__owner_agency=world.customs, port=world.port_b)
    target = make_target(subject=traveller, reasons=[
        {"kind": "watchlist", "text": "IVANOVA Maria on list L-7", "ref": "WL-7"},
        {"kind": "rule", "text": "One-way cash ticket", "ref": "R-3"},
    ])  # fmt: skip
    TargetShare.objects.create(target=target, agency=world.police)
    view = subject_view(police_liaison, traveller)
    assert view.masked and "IVANOVA" not in view.title and view.facts == {} and view.external_id == "withheld"
    assert view.port == "GBLHR" and view.kind == "traveller"
    texts = [r["text"] for r in reasons_view(police_liaison, target)]
    assert "IVANOVA Maria on list L-7" not in texts and "One-way cash ticket" in texts
    share_source(actor=customs_admin, source=traveller.source, agency=world.police)
    police_liaison._ratc_sources = None
    assert not subject_view(police_liaison, traveller).masked


def test_only_a_pass_on_share_may_be_passed_on(make_target, world, police_liaison, customs_analyst):
    target = make_target()
    services.share_target(actor=customs_analyst, target=target, agency=world.police, code=HandlingCode.SEE)
    with pytest.raises(PermissionDenied):
        services.share_target(actor=police_liaison, target=target, agency=world.bio)
    services.share_target(
        actor=customs_analyst, target=target, agency=world.police, code=HandlingCode.PASS_ON
    )
    with pytest.raises(PermissionDenied):
        services.share_target(actor=police_liaison, target=target, agency=world.bio, code=HandlingCode.ACT)
    services.share_target(actor=police_liaison, target=target, agency=world.bio, code=HandlingCode.SEE)
    assert set(target.shares.values_list("agency__code", flat=True)) == {"POL", "BIO"}


# --------------------------------------------------------------------------- comments


def test_comments_mention_people_and_carry_checked_attachments(
    make_target, world, customs_analyst, police_liaison
):
    target = make_target()
    TargetShare.objects.create(target=target, agency=world.police)
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.4 test report", content_type="application/pdf")
    comment = services.add_comment(
        actor=police_liaison, target=target, body="@alice see the report", attachments=[pdf]
    )
    assert list(comment.mentions.all()) == [customs_analyst]
    attachment = comment.attachments.get()
    assert attachment.sha256 == __import__("hashlib").sha256(b"%PDF-1.4 test report").hexdigest()
    assert attachment.size == 20
    assert Comment.objects.visible_to(customs_analyst).filter(pk=comment.pk).exists()


def test_attachments_of_the_wrong_type_or_size_are_refused(make_target, customs_analyst, settings):
    target = make_target()
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    for upload in (fake, exe):
        with pytest.raises(ValidationError):
            services.add_comment(actor=customs_analyst, target=target, body="see", attachments=[upload])
    big = SimpleUploadedFile("big.txt", b"a" * (services.MAX_ATTACHMENT_BYTES + 1), content_type="text/plain")
    with pytest.raises(ValidationError, match="10 MB"):
        services.add_comment(actor=customs_analyst, target=target, body="see", attachments=[big])
    assert not Comment.objects.exists()


def test_a_private_note_stays_in_the_authors_agency(make_target, world, customs_analyst, police_liaison):
    target = make_target()
    TargetShare.objects.create(target=target, agency=world.police)
    services.add_comment(actor=customs_analyst, target=target, body="Internal only", private=True)
    services.add_comment(actor=customs_analyst, target=target, body="For everyone")
    assert list(Comment.objects.visible_to(police_liaison).values_list("body", flat=True)) == ["For everyone"]


# --------------------------------------------------------------------------- timers and missed targets


def test_priority_rises_as_arrival_nears_and_late_decisions_breach(make_target):
    now = timezone.now()
    soon = make_target(priority=40, arrival_at=now + timedelta(minutes=50))
    later = make_target(priority=60, arrival_at=now + timedelta(days=2))
    ordered = list(Target.objects.with_urgency(now).order_by("-urgency").values_list("pk", "urgency"))
    assert ordered == [(soon.pk, 80), (later.pk, 60)]
    assert soon.sla_status(now) == "breached" and later.sla_status(now) == "ok"
    assert list(Target.objects.breaching(now)) == [soon]


def test_targets_released_before_examination_are_marked_missed(make_target):
    past = timezone.now() - timedelta(hours=5)
    gone = make_target(state="dispatched", arrival_at=past)
    examining = make_target(state="in_examination", arrival_at=past)
    upcoming = make_target(state="approved")
    assert mark_missed_targets.delay().get() == 1
    states = dict(Target.objects.values_list("pk", "state"))
    assert states == {gone.pk: S.MISSED, examining.pk: S.IN_EXAMINATION, upcoming.pk: S.APPROVED}
    assert gone.transitions.latest("id").actor is None


# --------------------------------------------------------------------------- joint operations and events


def test_a_joint_operation_groups_targets_of_several_agencies(
    make_target, world, customs_analyst, police_liaison
):
    now = timezone.now()
    op = services.create_operation(
        actor=customs_analyst, name="Operation Lantern", starts_at=now, ends_at=now + timedelta(days=7),
        agencies=[world.police],
    )  # fmt: skip
    target = make_target()
    services.add_to_operation(actor=customs_analyst, operation=op, target=target)
    assert list(op.targets.all()) == [target]
    assert op in type(op).objects.visible_to(police_liaison)
    assert not Target.objects.visible_to(police_liaison).exists()  # grouping shares nothing by itself


def test_events_go_to_the_right_groups_with_ids_only(make_target, world, customs_analyst, monkeypatch):
    sent = []
    # Every move publishes through the one conditional change (services.moves).
    monkeypatch.setattr(
        services.moves,
        "publish_many_on_commit",
        lambda groups, event, **payload: sent.extend((group, event, payload) for group in groups),
    )
    target = make_target()
    TargetShare.objects.create(target=target, agency=world.police)
    services.start_review(actor=customs_analyst, target=target)
    groups = {g for g, _, _ in sent}
    assert groups == {
        f"agency-{world.customs.pk}",
        f"agency-{world.police.pk}",
        "port-GBFXT",
        f"target-{target.pk}",
    }
    assert all(
        e == "target.changed" and p == {"target": target.pk, "state": "in_review", "version": 2}
        for _, e, p in sent
    )


def test_a_move_writes_its_history_row_keyed_in_one_insert(make_target, customs_analyst):
    """On PostgreSQL the move's ``UPDATE ... RETURNING`` takes the history row's key from its sequence:
    the row is one keyed INSERT with its HMAC, no ``nextval`` of its own; SQLite keys it as before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.compliance import anchors
    from apps.targeting.models import Transition

    target = make_target()
    before = set(Transition.objects.filter(target=target).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        services.start_review(actor=customs_analyst, target=target)
    (row,) = Transition.objects.filter(target=target).exclude(pk__in=before)
    assert (row.from_state, row.to_state, row.version) == ("nominated", "in_review", 2)
    assert row.mac == row.compute_mac(anchors.chain_keys()[row.key_id])
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum(s.startswith('INSERT INTO "targeting_transition"') for s in statements) == 1
    if connection.vendor == "postgresql":
        assert not any(s.startswith("SELECT nextval") and "targeting_transition" in s for s in statements)
        assert not any(s.startswith('UPDATE "targeting_transition"') for s in statements)
