"""One disclosure rule: what a viewer may read of a target is the same on every surface.

Each test names the finding of the trust review it proves (issue 16) and was written to fail before
``apps.targeting.disclosure`` and the derived visibility existed.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.agencies.models import AgencyKind, CentreConfiguration
from apps.agencies.roles import Role
from apps.targeting import services
from apps.targeting.models import (
    Attachment,
    Comment,
    HandlingCode,
    Hold,
    Instruction,
    JointOperation,
    Target,
    TargetShare,
    TargetState,
    Transition,
)
from tests.factories import AgencyFactory, member
from tests.targeting.factories import SubjectFactory, TravellerFactory

S = TargetState
NOMINATION_SECRET = "informant names importer ZEBRAFISH"
HOLD_SECRET = "controlled delivery, operation NIGHTJAR"
REJECT_SECRET = "source KESTREL is compromised"
OPERATION_NAME = "Operation HALCYON"


@pytest.fixture
def immigration(world):
    return AgencyFactory(code="IMM", name="Immigration Service", kind=AgencyKind.IMMIGRATION)


@pytest.fixture
def imm_liaison(immigration):
    return member("ivan", immigration, Role.LIAISON)


def _everything(client, target) -> str:
    """Every surface a viewer of the target reads: page, htmx panel, API, transitions, holds, history.csv."""
    bodies = [
        client.get(reverse("targeting:detail", args=[target.pk])),
        client.get(reverse("targeting:detail", args=[target.pk]), HTTP_HX_REQUEST="true"),
        client.get(reverse("targeting:export_target", args=[target.pk])),
        client.get(f"/api/v1/targets/{target.pk}/", HTTP_X_ACCESS_PURPOSE="risk_analysis"),
        client.get(f"/api/v1/targets/{target.pk}/transitions/", HTTP_X_ACCESS_PURPOSE="risk_analysis"),
        client.get("/api/v1/targets/", HTTP_X_ACCESS_PURPOSE="risk_analysis"),
        client.get("/api/v1/holds/", HTTP_X_ACCESS_PURPOSE="risk_analysis"),
    ]
    for response in bodies:
        assert response.status_code == 200, response.request["PATH_INFO"]
    return "\n".join(r.content.decode() for r in bodies)


@pytest.fixture
def nominated(world, customs_analyst, immigration):
    """A traveller nominated by hand by customs, with a free-text reason, shared "may see" with IMM."""
    subject = TravellerFactory(source__owner_agency=world.customs, port=world.port_a, title="OKAFOR, Tunde")
    target = services.nominate_target(
        actor=customs_analyst, subject=subject, risk_area="narcotics", reasons=[], reason=NOMINATION_SECRET
    )
    services.share_target(actor=customs_analyst, target=target, agency=immigration, code=HandlingCode.SEE)
    return Target.objects.get(pk=target.pk)


# --------------------------------------------------------------------------- finding 1


def test_history_withholds_the_nomination_reason_the_page_withholds(
    nominated, client_for, imm_liaison, customs_analyst
):
    seen_by_imm = _everything(client_for(imm_liaison), nominated)
    assert "ZEBRAFISH" not in seen_by_imm
    assert "OKAFOR" not in seen_by_imm  # IMM may not see the customs source's personal data
    assert "Details withheld" in seen_by_imm  # it is told that a reason exists
    assert "Shared with IMM" in seen_by_imm  # what the sharing panel shows anyway
    assert "ZEBRAFISH" in _everything(client_for(customs_analyst), nominated)


def test_a_nomination_withheld_with_the_personal_details_says_so(nominated, client_for, imm_liaison):
    """The nomination's words go with the subject's personal details, which IMM is not shown: the line
    says that, not that customs keeps its reasons from IMM."""
    page = client_for(imm_liaison).get(reverse("targeting:detail", args=[nominated.pk])).content.decode()
    history = page.split("<h2>History</h2>", 1)[1]
    assert "Reason withheld with the subject's personal details." in history
    assert "Reason held by CUS" not in history and "ZEBRAFISH" not in history


def test_a_hold_reason_is_read_only_by_the_holding_agency(
    make_target, world, client_for, police_liaison, customs_analyst
):
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    hold = services.place_hold(actor=police_liaison, target=target, reason=HOLD_SECRET)
    services.release_hold(actor=police_liaison, hold=hold, reason="NIGHTJAR delivered")
    target.refresh_from_db()
    customs_view = _everything(client_for(customs_analyst), target)
    assert "NIGHTJAR" not in customs_view
    assert "Reason held by POL" in customs_view  # the hold itself is no secret
    assert "NIGHTJAR" in _everything(client_for(police_liaison), target)


def test_reject_and_withdraw_reasons_stay_with_the_deciding_agency(
    make_target, world, client_for, customs_supervisor, police_liaison
):
    target = make_target(state="awaiting_approval")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    services.reject_target(actor=customs_supervisor, target=target, reason=REJECT_SECRET)
    target.refresh_from_db()
    police_view = _everything(client_for(police_liaison), target)
    assert "KESTREL" not in police_view and "Rejected" in police_view


# --------------------------------------------------------------------------- finding 2


@pytest.fixture
def at_port_b(make_target, world, police_liaison, customs_analyst, customs_supervisor):
    """A dispatched customs target at port B, with a police hold, a comment with an attachment."""
    target = make_target(state="approved", port=world.port_b)
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    services.dispatch_target(actor=customs_supervisor, target=target, method="scan", instruction="Scan it")
    target.refresh_from_db()
    upload = SimpleUploadedFile("note.txt", b"port B only", content_type="text/plain")
    services.add_comment(actor=customs_analyst, target=target, body="Seal 4411", attachments=[upload])
    services.place_hold(actor=police_liaison, target=target, reason=HOLD_SECRET)
    return Target.objects.get(pk=target.pk)


def test_children_follow_the_port_officers_narrowing(at_port_b, port_officer, client_for):
    """The officer at port A sees nothing of a port B target: not its holds, comments, files, history."""
    for model in (Hold, Comment, Attachment, Transition, Instruction):
        assert not model.objects.visible_to(port_officer).exists(), model.__name__
    client = client_for(port_officer)
    holds = client.get("/api/v1/holds/", HTTP_X_ACCESS_PURPOSE="examination").json()
    assert holds["results"] == []
    attachment = Attachment.objects.get()
    assert client.get(reverse("targeting:attachment", args=[attachment.pk])).status_code == 404


def test_the_officer_at_the_port_sees_a_held_instruction_as_held(at_port_b, world, client_for):
    officer_b = member("olga", world.customs, Role.FRONTLINE, ports=[world.port_b])
    instruction = Instruction.objects.visible_to(officer_b).get()
    page = client_for(officer_b, purpose="examination").get(
        reverse("frontline:instruction", args=[instruction.pk])
    )
    assert page.status_code == 200
    assert "Do not examine" in page.content.decode()
    assert "NIGHTJAR" not in page.content.decode()


def test_the_officer_is_told_to_stand_off_not_which_partner_holds(at_port_b, world, client_for):
    """Finding 6: the target page and the holds API tell the officer what his tablet does, no more."""
    officer_b = member("olga", world.customs, Role.FRONTLINE, ports=[world.port_b])
    client = client_for(officer_b, purpose="examination")
    seen = "\n".join(
        r.content.decode()
        for r in (
            client.get(reverse("targeting:detail", args=[at_port_b.pk])),
            client.get(reverse("targeting:export_target", args=[at_port_b.pk])),
            client.get("/api/v1/holds/", HTTP_X_ACCESS_PURPOSE="examination"),
            client.get(f"/api/v1/targets/{at_port_b.pk}/transitions/", HTTP_X_ACCESS_PURPOSE="examination"),
            client.get(f"/api/v1/targets/{at_port_b.pk}/", HTTP_X_ACCESS_PURPOSE="examination"),
        )
    )
    assert "Do not examine" in seen and "a partner agency" in seen
    assert "National Police" not in seen and "paula" not in seen
    assert '"POL"' not in seen and ">POL<" not in seen and "Reason held by POL" not in seen


# --------------------------------------------------------------------------- finding 3


def test_nominating_never_returns_another_agencys_unshared_target(
    world, customs_analyst, police_analyst, client_for
):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    assign_perm("intake.view_datasource", world.police.group, subject.source)
    theirs = services.nominate_target(
        actor=customs_analyst, subject=subject, risk_area="narcotics", reasons=[], reason=NOMINATION_SECRET
    )
    response = client_for(police_analyst).post(
        "/api/v1/targets/",
        {"subject": subject.pk, "risk_area": "narcotics", "reason": "Our own lead"},
        content_type="application/json",
        HTTP_X_ACCESS_PURPOSE="risk_analysis",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != theirs.pk and body["owner_agency"] == "POL"
    assert "ZEBRAFISH" not in response.content.decode()


def test_nominating_a_subject_with_a_shared_open_target_returns_that_target(
    world, customs_analyst, police_analyst, client_for
):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    assign_perm("intake.view_datasource", world.police.group, subject.source)
    ours = services.nominate_target(
        actor=customs_analyst, subject=subject, risk_area="narcotics", reasons=[], reason="Routing"
    )
    TargetShare.objects.create(target=ours, agency=world.police, code=HandlingCode.SEE)
    response = client_for(police_analyst).post(
        "/api/v1/targets/",
        {"subject": subject.pk, "risk_area": "narcotics", "reason": "Our own lead"},
        content_type="application/json",
        HTTP_X_ACCESS_PURPOSE="risk_analysis",
    )
    assert (response.status_code, response.json()["id"]) == (200, ours.pk)


# --------------------------------------------------------------------------- finding 6


def test_the_officer_reads_no_more_on_the_target_page_than_on_the_tablet(
    world, customs_analyst, customs_supervisor, port_officer, client_for
):
    subject = TravellerFactory(
        source__owner_agency=world.customs,
        port=world.port_a,
        title="MENSAH, Kofi",
        facts={"date_of_birth": "1961-04-19", "document_number": "P88112233", "flight": "BA117"},
    )
    target = Target.objects.create(
        subject=subject, owner_agency=world.customs, state=S.APPROVED, risk_area="narcotics",
        port=world.port_a, reasons=[{"kind": "rule", "text": "Route rule", "ref": "R-1"},
                                    {"kind": "person", "text": NOMINATION_SECRET, "ref": ""}],
    )  # fmt: skip
    services.dispatch_target(actor=customs_supervisor, target=target, method="physical", instruction="Bags")
    client = client_for(port_officer, purpose="examination")
    seen = "\n".join(
        r.content.decode()
        for r in (
            client.get(reverse("targeting:detail", args=[target.pk])),
            client.get(reverse("targeting:export_target", args=[target.pk])),
            client.get(f"/api/v1/targets/{target.pk}/", HTTP_X_ACCESS_PURPOSE="examination"),
            client.get(f"/api/v1/targets/{target.pk}/transitions/", HTTP_X_ACCESS_PURPOSE="examination"),
        )
    )
    assert "ZEBRAFISH" not in seen
    assert "1961-04-19" not in seen and "P88112233" not in seen
    assert "BA117" in seen and "Bags" in seen  # what helps him examine is there: the facts, the instruction
    assert "Route rule" not in seen  # reasons stay at the centre: a random draw has none to show


# --------------------------------------------------------------------------- finding 7


def test_an_operation_is_named_only_to_its_agencies(
    make_target, world, client_for, police_liaison, customs_analyst, immigration
):
    from django.utils import timezone

    operation = JointOperation.objects.create(
        name=OPERATION_NAME, owner_agency=world.police, starts_at=timezone.now(),
        ends_at=timezone.now() + timezone.timedelta(days=3),
    )  # fmt: skip
    operation.agencies.set([immigration])
    target = make_target(state="nominated", owner_agency=world.police)
    TargetShare.objects.create(target=target, agency=world.customs, code=HandlingCode.SEE)
    services.add_to_operation(actor=police_liaison, operation=operation, target=target)
    target.refresh_from_db()
    client = client_for(customs_analyst)
    assert "HALCYON" not in _everything(client, target)
    api = client.get(f"/api/v1/targets/{target.pk}/", HTTP_X_ACCESS_PURPOSE="risk_analysis").json()
    assert api["operation"] is None
    counted = client.get(f"/api/v1/targets/?operation={operation.pk}", HTTP_X_ACCESS_PURPOSE="risk_analysis")
    assert counted.json()["results"] == []
    assert "HALCYON" in _everything(client_for(police_liaison), target)


# --------------------------------------------------------------------------- finding 8


def test_a_partner_passing_on_cannot_change_the_owners_share(
    make_target, world, customs_analyst, police_liaison, outsider
):
    target = make_target(state="nominated")
    services.share_target(
        actor=customs_analyst, target=target, agency=world.police, code=HandlingCode.PASS_ON
    )
    services.share_target(actor=customs_analyst, target=target, agency=world.bio, code=HandlingCode.ACT)
    with pytest.raises(PermissionDenied, match="only the owner"):
        services.share_target(actor=police_liaison, target=target, agency=world.bio, code=HandlingCode.SEE)
    assert TargetShare.objects.get(target=target, agency=world.bio).code == HandlingCode.ACT


def test_may_see_includes_a_hold_but_not_acting(make_target, world, police_liaison):
    """Decided: a "may see" partner may place a deconfliction hold (and nothing else that acts)."""
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    with pytest.raises(PermissionDenied):
        services.withdraw_target(actor=police_liaison, target=target, reason="Ours now")
    assert services.place_hold(actor=police_liaison, target=target, reason="Controlled delivery").active


# --------------------------------------------------------------------------- finding 12 (targeting)


@pytest.mark.parametrize(
    "payload",
    [
        {"subject": 1, "risk_area": "narcotics", "reasons": [{"kind": ["rule"], "text": "x"}]},
        {"subject": 1, "risk_area": "narcotics", "reasons": [{"kind": "rule", "text": {"a": 1}}]},
        {"subject": "abc", "risk_area": "narcotics"},
        {"subject": 1, "risk_area": "narcotics", "priority": 10**30},
    ],
)
def test_bad_nominations_answer_400_naming_the_field(payload, world, customs_analyst, client_for):
    SubjectFactory(pk=1, source__owner_agency=world.customs)
    response = client_for(customs_analyst).post(
        "/api/v1/targets/", json.dumps(payload), content_type="application/json",
        HTTP_X_ACCESS_PURPOSE="risk_analysis",
    )  # fmt: skip
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} & {"reasons", "subject", "priority"}


@pytest.mark.parametrize("target", ["abc", ["1"], 10**30])
def test_a_bad_hold_target_answers_400(target, police_liaison, client_for):
    response = client_for(police_liaison).post(
        "/api/v1/holds/", json.dumps({"target": target, "reason": "x"}), content_type="application/json",
        HTTP_X_ACCESS_PURPOSE="risk_analysis",
    )  # fmt: skip
    assert response.status_code == 400 and [e["field"] for e in response.json()["errors"]] == ["target"]


@pytest.mark.parametrize(
    ("action", "post"),
    [
        ("target_share", {"agency": "abc"}),
        ("target_consent", {"share": "abc"}),
        ("target_release_hold", {"hold": "abc"}),
    ],
)
def test_bad_page_posts_answer_with_a_message_not_a_500(
    action, post, make_target, customs_analyst, client_for
):
    target = make_target(state="nominated")
    response = client_for(customs_analyst).post(reverse(f"targeting:{action}", args=[target.pk]), post)
    assert response.status_code in {302, 404}


@pytest.mark.parametrize("start", ["2026-13-45T10:00", "not a date", ""])
def test_a_bad_operation_date_names_the_field(start, customs_analyst, client_for):
    response = client_for(customs_analyst).post(
        reverse("targeting:operations"),
        {"name": "Op", "starts_at": start, "ends_at": "2026-12-20T10:00"},
        follow=True,
    )
    assert response.status_code == 200
    assert "starts_at" in response.content.decode()
    assert not JointOperation.objects.exists()


# --------------------------------------------------------------------------- finding 14


def test_four_eyes_the_nominator_never_approves(make_target, world, customs_supervisor, client_for):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    target = services.nominate_target(
        actor=customs_supervisor, subject=subject, risk_area="narcotics", reasons=[], reason="Tip-off"
    )
    services.start_review(actor=customs_supervisor, target=target)
    services.submit_for_approval(actor=customs_supervisor, target=target)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.approve_target(actor=customs_supervisor, target=target)
    page = client_for(customs_supervisor).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    assert 'data-action="approve"' not in page
    other = member("bella", world.customs, Role.SUPERVISOR)
    assert services.approve_target(actor=other, target=target).state == S.APPROVED


def test_four_eyes_can_be_switched_off_for_an_operating_model(world, customs_supervisor):
    config = CentreConfiguration.current()
    setattr(config, f"four_eyes_{config.operating_model}", False)
    config.save()
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    target = services.nominate_target(
        actor=customs_supervisor, subject=subject, risk_area="narcotics", reasons=[], reason="Tip-off"
    )
    services.start_review(actor=customs_supervisor, target=target)
    services.submit_for_approval(actor=customs_supervisor, target=target)
    assert services.approve_target(actor=customs_supervisor, target=target).state == S.APPROVED


# --------------------------------------------------------------------------- results (build 2)


def test_an_officers_notes_are_read_by_the_owner_not_by_a_partner_that_may_see(
    make_target, world, customs_supervisor, port_officer, police_analyst, customs_analyst, client_for
):
    import uuid

    from apps.frontline import services as frontline
    from apps.frontline.services import ResultInput

    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    instruction = services.dispatch_target(
        actor=customs_supervisor, target=target, method="physical", instruction="Check the pallets"
    )
    frontline.record_examination(
        actor=port_officer, instruction=instruction,
        data=ResultInput(uuid.uuid4(), "physical", "irregularity", notes="Driver MORROW gave the name KESTREL"),
    )  # fmt: skip
    police = client_for(police_analyst).get(
        "/api/v1/examination-results/", HTTP_X_ACCESS_PURPOSE="risk_analysis"
    )
    assert police.status_code == 200 and "irregularity" in police.content.decode()
    assert "KESTREL" not in police.content.decode()
    owner = client_for(customs_analyst).get(
        "/api/v1/examination-results/", HTTP_X_ACCESS_PURPOSE="risk_analysis"
    )
    assert "KESTREL" in owner.content.decode()


# --------------------------------------------------------------------------- finding 13 (history.csv)


def test_history_csv_writes_a_formula_as_text(make_target, customs_analyst, client_for):
    import csv
    import io

    target = make_target(state="nominated")
    formula = '=HYPERLINK("http://127.0.0.1/x","click")'
    services.withdraw_target(actor=customs_analyst, target=target, reason=formula)
    body = (
        client_for(customs_analyst).get(reverse("targeting:export_target", args=[target.pk])).content.decode()
    )
    reasons = [row["reason"] for row in csv.DictReader(io.StringIO(body))]
    assert "'" + formula in reasons and formula not in reasons


# --------------------------------------------------------------------------- the result card (issue 17)

OFFICER_NOTES = "Driver MORROW named his cousin KESTREL as the sender"


@pytest.fixture
def examined(make_target, world, customs_supervisor, port_officer, settings, tmp_path):
    """A customs target shared "may see" with police, dispatched to port_a and examined there: a seizure
    of 12.5 kg of cocaine and 2,000 sticks of cigarettes, with notes and a photo."""
    import io
    import uuid
    from decimal import Decimal

    from PIL import Image

    from apps.frontline import services as frontline
    from apps.frontline.services import GoodsLine, ResultInput

    settings.MEDIA_ROOT = tmp_path / "media"
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    import time_machine
    from django.utils import timezone

    now = timezone.now()
    with time_machine.travel(now - timezone.timedelta(hours=2)):  # sent before the examination began
        instruction = services.dispatch_target(
            actor=customs_supervisor, target=target, method="physical", instruction="Check the pallets"
        )
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "JPEG")
    photo = SimpleUploadedFile("IMG_1.jpg", buffer.getvalue(), content_type="image/jpeg")
    frontline.record_examination(
        actor=port_officer, instruction=instruction, photos=[photo],
        data=ResultInput(
            uuid.uuid4(), "physical", "seizure", started_at=now - timezone.timedelta(minutes=50),
            ended_at=now - timezone.timedelta(minutes=10), notes=OFFICER_NOTES,
            goods=[GoodsLine("cocaine", Decimal("12.5"), "kg", Decimal("400000")),
                   GoodsLine("tobacco", Decimal("2000"), "sticks", Decimal("1234.5"))],
        ),
    )  # fmt: skip
    return Target.objects.get(pk=target.pk)


def _card(client, target) -> str:
    body = client.get(reverse("targeting:detail", args=[target.pk])).content.decode()
    assert 'data-testid="result-card"' in body
    return body


def test_the_result_card_shows_goods_value_currency_photos_notes_and_officer_to_the_owner(
    examined, customs_analyst, client_for, settings
):
    from apps.frontline.models import ExaminationPhoto

    settings.RATC_CURRENCY = "EUR"
    body = _card(client_for(customs_analyst), examined)
    assert "Seizure" in body and "Physical examination" in body
    assert "Cocaine" in body and "12.5 kg" in body and "2,000 sticks (cigarettes)" in body
    assert "EUR 400,000.00" in body and "EUR 1,234.50" in body and "EUR 401,234.50" in body  # the total
    assert OFFICER_NOTES in body and "Test Oscar" in body and "(40 min)" in body
    photo = ExaminationPhoto.objects.get()
    assert f'href="{reverse("frontline:photo", args=[photo.pk])}"' in body
    assert client_for(customs_analyst).get(reverse("frontline:photo", args=[photo.pk])).status_code == 200


def test_a_partner_reads_the_result_but_not_the_officers_notes(examined, police_analyst, client_for):
    body = _card(client_for(police_analyst), examined)
    assert "Cocaine" in body and "12.5 kg" in body and "400,000.00" in body
    assert "KESTREL" not in body and "MORROW" not in body
    assert 'data-testid="result-notes-withheld"' in body
    assert 'data-testid="result-photos"' in body


def test_a_liaison_officer_reads_no_result_as_in_the_api(examined, police_liaison, client_for):
    body = client_for(police_liaison).get(reverse("targeting:detail", args=[examined.pk])).content.decode()
    assert 'data-testid="result-card"' not in body and "400,000" not in body


def test_a_partners_officer_at_the_port_is_not_told_who_recorded_nor_the_notes(examined, world, client_for):
    from apps.targeting.disclosure import disclose

    officer = member("piotr", world.police, Role.FRONTLINE, ports=[world.port_a])
    [card] = disclose(officer, examined).results()
    assert card.officer == "" and card.officer_agency == "" and card.notes == "" and card.notes_withheld
    assert [g.kind_label for g in card.goods] == ["Cocaine", "Tobacco and cigarettes"] and card.photos
    body = _card(client_for(officer), examined)
    assert "Oscar" not in body and "KESTREL" not in body and "An officer at the port" in body


def test_a_correction_shows_as_the_latest_with_a_corrected_mark(
    examined, customs_supervisor, customs_analyst, client_for
):
    import uuid

    from apps.frontline import services as frontline
    from apps.frontline.models import ExaminationResult
    from apps.frontline.services import ResultInput
    from apps.targeting.disclosure import disclose

    original = ExaminationResult.objects.get()
    frontline.correct_examination(
        actor=customs_supervisor, result=original, reason="Weighed again at the lab",
        data=ResultInput(uuid.uuid4(), "physical", "irregularity", started_at=original.started_at,
                         ended_at=original.ended_at, notes="Only undeclared goods"),
    )  # fmt: skip
    [card] = disclose(customs_analyst, Target.objects.get(pk=examined.pk)).results()
    assert card.corrected and card.outcome == "irregularity" and card.corrections == 1
    assert card.correction_reason == "Weighed again at the lab" and card.officer == "Test Oscar"
    assert len(card.photos) == 1  # the original's photo stays with the examination
    body = _card(client_for(customs_analyst), Target.objects.get(pk=examined.pk))
    assert 'data-testid="result-corrected"' in body and "Irregularity" in body and "Weighed again" in body


def test_the_engines_withheld_reason_is_held_by_the_targeting_centre(make_target, port_officer, client_for):
    """The engine's nomination line has no agency: its withheld reason is the centre's, not "THE OWNER"."""
    target = make_target(state="dispatched", by_engine=True)  # nominated by the system (the factory's line)
    page = client_for(port_officer).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    assert "held by THE OWNER" not in page
    assert "Reason held by the targeting centre." in page
