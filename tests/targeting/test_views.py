"""The targeting pages: what each person sees and may do, and stale changes shown plainly."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from apps.targeting.models import HandlingCode, Target, TargetShare, TargetState
from tests.factories import PortCapacityFactory
from tests.targeting.factories import SubjectFactory, TravellerFactory


def test_queues_show_count_oldest_and_breaches(client_for, customs_analyst, make_target):
    make_target(arrival_at=timezone.now() + timedelta(minutes=30))
    make_target()
    page = client_for(customs_analyst).get(reverse("targeting:queues")).content.decode()
    assert 'data-testid="open-total">2<' in page
    assert "Felixstowe" in page and "Narcotics" in page and "SLA breached" in page


def test_a_queue_orders_by_rising_priority_and_offers_claims(client_for, customs_analyst, make_target):
    later = make_target(priority=70, arrival_at=timezone.now() + timedelta(days=3))
    soon = make_target(priority=50, arrival_at=timezone.now() + timedelta(minutes=40))
    page = client_for(customs_analyst).get(reverse("targeting:queue") + "?port=GBFXT").content.decode()
    assert page.index(soon.reference) < page.index(later.reference)
    assert ">Claim<" in page


def test_an_analyst_nominates_from_a_subject(client_for, customs_analyst, world):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    client = client_for(customs_analyst)
    url = reverse("targeting:nominate", args=[subject.pk])
    bad = client.post(url, {"risk_area": "", "reason": "x"})
    assert bad.status_code == 200 and "Risk area: Choose the risk area (" in bad.content.decode()
    response = client.post(
        url, {"risk_area": "weapons", "priority": "70", "reason": "Rifle parts declared as tools"}
    )
    target = Target.objects.get()
    assert response.url == reverse("targeting:detail", args=[target.pk])
    assert target.reasons[0]["text"] == "Rifle parts declared as tools" and target.priority == 70


def test_the_detail_shows_only_the_buttons_the_viewer_may_use(
    client_for, customs_analyst, customs_supervisor, make_target
):
    target = make_target(state="awaiting_approval")
    analyst_page = (
        client_for(customs_analyst).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    )
    assert 'data-action="approve"' not in analyst_page and 'data-action="withdraw"' in analyst_page
    supervisor_page = (
        client_for(customs_supervisor).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    )
    assert 'data-action="approve"' in supervisor_page and 'data-action="reject"' in supervisor_page


def test_a_stale_approval_is_refused_with_a_clear_message(client_for, customs_supervisor, make_target):
    target = make_target(state="awaiting_approval")
    Target.objects.filter(pk=target.pk).update(state=TargetState.REJECTED, version=2)
    client = client_for(customs_supervisor)
    response = client.post(
        reverse("targeting:target_approve", args=[target.pk]), {"version": "1"}, follow=True
    )
    text = response.content.decode()
    assert "was changed by" in text and "Reload it and decide again" in text
    assert Target.objects.get(pk=target.pk).state == TargetState.REJECTED


def test_a_liaison_sees_masked_subject_and_gets_404_for_unshared(
    client_for, police_liaison, make_target, world
):
    traveller = TravellerFactory(source__owner_agency=world.customs, port=world.port_b)
    shared = make_target(subject=traveller)
    TargetShare.objects.create(target=shared, agency=world.police, code=HandlingCode.SEE)
    unshared = make_target()
    client = client_for(police_liaison)
    page = client.get(reverse("targeting:detail", args=[shared.pk])).content.decode()
    assert "Personal details withheld" in page and traveller.title not in page and "P1234567" not in page
    assert client.get(reverse("targeting:detail", args=[unshared.pk])).status_code == 404
    assert client.get(reverse("targeting:export_target", args=[unshared.pk])).status_code == 404
    export = b"".join(client.get(reverse("targeting:export")).streaming_content).decode()
    assert shared.reference in export and unshared.reference not in export
    listing = client.get(reverse("targeting:list")).content.decode()
    assert shared.reference in listing and unshared.reference not in listing


def test_a_liaison_holds_from_the_page_and_dispatch_is_blocked(
    client_for, police_liaison, customs_supervisor, make_target, world
):
    target = make_target(state="approved")
    TargetShare.objects.create(target=target, agency=world.police)
    client_for(police_liaison).post(reverse("targeting:target_hold", args=[target.pk]),
                                    {"reason": "Controlled delivery", "version": "1"})  # fmt: skip
    page = client_for(customs_supervisor).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    assert "Do not examine." in page and 'data-action="dispatch"' not in page
    response = client_for(customs_supervisor).post(
        reverse("targeting:target_dispatch", args=[target.pk]),
        {"version": "2", "method": "scan", "instruction": "x"}, follow=True,
    )  # fmt: skip
    assert "cannot" in response.content.decode()
    assert Target.objects.get(pk=target.pk).state == TargetState.ON_HOLD


def test_dispatch_page_proposes_and_accepts(client_for, customs_supervisor, port_officer, make_target, world):
    PortCapacityFactory(port=world.port_a, shift="early", method="physical", slots=1)
    chosen, left = make_target(state="approved", score=0.9), make_target(state="approved", score=0.1)
    client = client_for(customs_supervisor)
    url = reverse("targeting:dispatch")
    client.post(reverse("targeting:dispatch_propose"), {"port": "GBFXT", "shift": "early"})
    page = client.get(url + "?port=GBFXT&shift=early").content.decode()
    assert chosen.reference in page and "Capacity full" in page and "Left out (1)" in page
    proposal = page.split('name="proposal" value="')[1].split('"')[0]
    client.post(
        reverse("targeting:dispatch_accept"),
        {
            "port": "GBFXT",
            "shift": "early",
            "proposal": proposal,
            f"method-{chosen.pk}": "physical",
        },
    )
    assert Target.objects.get(pk=chosen.pk).state == TargetState.DISPATCHED
    assert Target.objects.get(pk=left.pk).state == TargetState.APPROVED
    officer_page = client_for(port_officer).get(reverse("targeting:instructions")).content.decode()
    assert chosen.reference in officer_page and left.reference not in officer_page


def test_operations_are_created_and_listed(client_for, customs_analyst, police_liaison, world):
    client = client_for(customs_analyst)
    response = client.post(reverse("targeting:operations"), {
        "name": "Operation Lantern", "starts_at": "2026-01-01T08:00", "ends_at": "2026-02-01T08:00",
        "agencies": [world.police.pk],
    })  # fmt: skip
    assert response.status_code == 302
    assert (
        "Operation Lantern"
        in client_for(police_liaison).get(reverse("targeting:operations")).content.decode()
    )
