"""The shift handover: prepared from the summary, handed over, acknowledged; open items carry over."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.agencies.roles import Role
from apps.handover import services
from apps.handover.models import DeskKind, Handover, HandoverItem, HandoverRecord
from apps.handover.services import Desk
from tests.factories import member

NATIONAL = Desk(DeskKind.NATIONAL)


def _refs(section: dict) -> set[str]:
    return {row["ref"] for row in section["rows"]}


def test_the_summary_counts_what_the_desk_has_open(floor, world, customs_supervisor):
    handover = services.prepare_handover(
        actor=customs_supervisor, desk=NATIONAL, shift_date=timezone.localdate(), shift="early"
    )
    s = handover.summary
    assert s["open_total"] == 5  # the closed target is not open
    assert {r["state"]: r["count"] for r in s["open_by_state"]} == {
        "nominated": 1, "in_review": 1, "approved": 2, "on_hold": 1,
    }  # fmt: skip
    assert _refs(s["breaches"]) == {floor.breaching.reference}
    assert _refs(s["claims"]) == {floor.claimed.reference}
    assert "claimed by Test Alice" in s["claims"]["rows"][0]["detail"]
    assert _refs(s["holds"]) == {floor.held.reference}
    assert _refs(s["requests"]) == {floor.held.reference, floor.consent.reference}
    # A port desk sees its port only.
    port = services.prepare_handover(
        actor=customs_supervisor,
        desk=Desk(DeskKind.PORT, world.port_b),
        shift_date=timezone.localdate(),
        shift="early",
    )
    assert port.summary["open_total"] == 1 and port.summary["breaches"]["count"] == 0


def test_open_items_carry_over_to_the_next_handover(floor, customs_supervisor, incoming_supervisor):
    today = timezone.localdate()
    first = services.prepare_handover(
        actor=customs_supervisor, desk=NATIONAL, shift_date=today, shift="early"
    )
    open_item = services.add_item(
        actor=customs_supervisor, handover=first, text="Police to confirm the hold", target=floor.held
    )
    done = services.add_item(actor=customs_supervisor, handover=first, text="Scanner at FXT back at noon")
    services.close_item(actor=customs_supervisor, item=done, resolution="Scanner is back")
    services.submit_handover(actor=customs_supervisor, handover=first, notes="Quiet shift.")
    services.acknowledge_handover(actor=incoming_supervisor, handover=first, note="Taken.")

    second = services.prepare_handover(
        actor=incoming_supervisor, desk=NATIONAL, shift_date=today, shift="late"
    )
    assert second.previous == first
    carried = list(second.items.all())
    assert [(i.text, i.target, i.carried_from, i.raised_by, i.status) for i in carried] == [
        ("Police to confirm the hold", floor.held, open_item, customs_supervisor, HandoverItem.Status.OPEN)
    ]
    assert carried[0].raised_at == open_item.raised_at  # how long it has been open is kept
    # Still open at the end of the late shift: it goes on to the night.
    services.submit_handover(actor=incoming_supervisor, handover=second, notes="")
    third = services.prepare_handover(
        actor=customs_supervisor, desk=NATIONAL, shift_date=today, shift="night"
    )
    assert [i.carried_from.carried_from for i in third.items.all()] == [open_item]


def test_a_handed_over_handover_no_longer_changes_and_is_recorded(
    floor, customs_supervisor, incoming_supervisor
):
    handover = services.prepare_handover(
        actor=customs_supervisor, desk=NATIONAL, shift_date=timezone.localdate(), shift="early"
    )
    item = services.add_item(actor=customs_supervisor, handover=handover, text="Follow up")
    services.submit_handover(actor=customs_supervisor, handover=handover, notes="Over to you")
    with pytest.raises(PermissionDenied):  # the writer does not acknowledge his own handover
        services.acknowledge_handover(actor=customs_supervisor, handover=handover)
    services.acknowledge_handover(actor=incoming_supervisor, handover=Handover.objects.get(pk=handover.pk))
    handover.refresh_from_db()
    with pytest.raises(ValidationError):
        services.add_item(actor=incoming_supervisor, handover=handover, text="late addition")
    with pytest.raises(ValidationError):
        services.close_item(actor=incoming_supervisor, item=item, resolution="done")
    handover.notes = "rewritten"
    with pytest.raises(PermissionDenied):
        handover.save()
    with pytest.raises(PermissionDenied):
        handover.delete()
    records = list(HandoverRecord.objects.filter(handover=handover).order_by("at", "pk"))
    assert [(r.action, r.actor) for r in records] == [
        ("prepared", customs_supervisor), ("submitted", customs_supervisor), ("acknowledged", incoming_supervisor),
    ]  # fmt: skip
    assert all(len(r.digest) == 64 for r in records)


def test_role_and_desk_are_checked_first(floor, world, customs_analyst, police_liaison):
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):  # analysts read handovers, they do not write them
        services.prepare_handover(actor=customs_analyst, desk=NATIONAL, shift_date=today, shift="early")
    port_supervisor = member("petra", world.customs, Role.SUPERVISOR, ports=[world.port_a])
    with pytest.raises(PermissionDenied):  # a port team hands over its own port's desk only
        services.prepare_handover(actor=port_supervisor, desk=NATIONAL, shift_date=today, shift="early")
    assert [d.key for d in services.desks_for(port_supervisor)] == ["port:GBFXT"]
    # A partner's desk: only what is shared with the police appears in its summary.
    desk = services.desks_for(police_liaison)
    assert [d.key for d in desk] == ["agency"]
    partner = services.prepare_handover(actor=police_liaison, desk=desk[0], shift_date=today, shift="early")
    assert partner.summary["open_total"] == 2
    assert _refs(partner.summary["holds"]) == {floor.held.reference}
    assert partner.summary["requests"]["count"] == 1  # the consent it waits for; its own hold is no request
    assert not Handover.objects.visible_to(port_supervisor).filter(pk=partner.pk).exists()


def _panel(html: str) -> str:
    match = re.search(r'<section[^>]*data-testid="panel-handover".*?</section>', html, re.S)
    assert match, "the home page has no handover panel"
    return match.group(0)


def test_an_unacknowledged_handover_shows_as_such_on_the_home_page(
    floor, customs_supervisor, incoming_supervisor, client
):
    handover = services.prepare_handover(
        actor=customs_supervisor, desk=NATIONAL, shift_date=timezone.localdate(), shift="early"
    )
    client.force_login(incoming_supervisor)
    panel = _panel(client.get(reverse("home")).content.decode())
    assert "Draft · not yet handed over" in panel and 'data-testid="count-handover"' in panel

    client.force_login(customs_supervisor)
    client.post(reverse("handover:submit", args=[handover.pk]), {"notes": "Two holds to watch"})
    client.force_login(incoming_supervisor)
    panel = _panel(client.get(reverse("home")).content.decode())
    assert "hm-urgent" in panel and "Awaiting acknowledgement · handed over by Test Bob" in panel
    assert re.search(r'data-testid="count-handover"[^>]*>1<', panel)
    assert 'class="hm-alert"' in panel

    page = client.get(reverse("handover:detail", args=[handover.pk])).content.decode()
    assert "Acknowledge: I take the desk" in page and "Two holds to watch" in page
    assert client.post(reverse("handover:acknowledge", args=[handover.pk]), {"note": "ok"}).status_code == 302
    panel = _panel(client.get(reverse("home")).content.decode())
    assert "Every handover has been acknowledged." in panel
    assert re.search(r'data-testid="count-handover"[^>]*>0<', panel)
