"""Board pages: who may open which board, what each section shows, and that scoping applies again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.agencies.roles import Role
from apps.targeting.models import TargetState
from tests.factories import member

pytestmark = [pytest.mark.django_db]


def test_the_floor_board_draws_columns_counts_arrivals_breaches(client_for, customs_analyst, customs_target):
    soon = customs_target(state=TargetState.NOMINATED, arrival_at=timezone.now() + timedelta(minutes=50))
    later = customs_target(state=TargetState.APPROVED, arrival_at=timezone.now() + timedelta(hours=4))
    html = client_for(customs_analyst).get(reverse("live:floor")).content.decode()
    assert 'data-board-ws="/ws/boards/floor/"' in html
    assert soon.reference in html and later.reference in html
    assert 'id="lv-breaches"' in html and 'id="lv-arrivals"' in html and 'id="lv-findings"' in html
    assert 'data-count="breaches">1<' in html


def test_an_htmx_refetch_returns_only_the_sections(client_for, customs_analyst, customs_target):
    target = customs_target()
    client = client_for(customs_analyst)
    response = client.get(reverse("live:floor") + "?section=all", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and 'id="lv-columns"' in html and target.reference in html
    counts = client.get(reverse("live:floor") + "?section=counts", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="lv-counts"' in counts and 'id="lv-columns"' not in counts


def test_a_liaison_sees_only_what_is_shared_with_his_agency(client_for, police_liaison, customs_target):
    hidden = customs_target(arrival_at=timezone.now() + timedelta(minutes=30))
    for url in (
        reverse("live:floor"),
        reverse("live:port", args=["GBFXT"]),
        reverse("live:queue") + "?agency=CUS",
    ):
        html = (
            client_for(police_liaison).get(url, {"section": "all"}, HTTP_HX_REQUEST="true").content.decode()
        )
        assert hidden.reference not in html and f'data-target="{hidden.pk}"' not in html
        assert 'data-count="breaches">0<' in html


def test_frontline_officers_only_open_their_ports(client_for, port_officer, customs_target):
    dispatched = customs_target(state=TargetState.DISPATCHED)
    nominated = customs_target(state=TargetState.NOMINATED)
    client = client_for(port_officer)
    html = client.get(reverse("live:port", args=["GBFXT"])).content.decode()
    assert dispatched.reference in html and nominated.reference not in html
    assert client.get(reverse("live:port", args=["GBLHR"])).status_code == 403
    assert client.get(reverse("live:queue") + "?port=GBLHR").status_code == 403
    assert client.get(reverse("live:port", args=["XXNOP"])).status_code == 404


def test_a_role_without_boards_gets_403(client_for, world):
    auditor = member("audrey", world.customs, Role.AUDITOR)
    assert client_for(auditor).get(reverse("live:floor")).status_code == 403


def test_a_queue_board_filters_by_risk_area_and_port(client_for, customs_analyst, customs_target, world):
    revenue = customs_target(risk_area="revenue")
    narcotics = customs_target(risk_area="narcotics")
    elsewhere = customs_target(risk_area="revenue", port=world.port_b)
    html = (
        client_for(customs_analyst)
        .get(reverse("live:queue"), {"risk_area": "revenue", "port": "GBFXT"})
        .content.decode()
    )
    assert revenue.reference in html and narcotics.reference not in html and elsewhere.reference not in html
    assert 'data-board-ws="/ws/boards/queue/?risk_area=revenue&amp;port=GBFXT"' in html
    assert (
        client_for(customs_analyst).get(reverse("live:queue"), {"risk_area": "nonsense"}).status_code == 404
    )


def test_the_operation_board_shows_the_operations_targets(
    client_for, customs_analyst, customs_target, operation
):
    inside = customs_target(operation=operation)
    outside = customs_target()
    html = client_for(customs_analyst).get(reverse("live:operation", args=[operation.pk])).content.decode()
    assert "Atlantic Gate" in html and inside.reference in html and outside.reference not in html


def test_the_presence_fragment_is_404_outside_scope(
    client_for, police_liaison, customs_analyst, customs_target
):
    target = customs_target()
    assert client_for(police_liaison).get(reverse("live:presence", args=[target.pk])).status_code == 404
    html = client_for(customs_analyst).get(reverse("live:presence", args=[target.pk]), HTTP_HX_REQUEST="true")
    assert html.status_code == 200 and "Nobody else" in html.content.decode()


def test_the_presence_include_renders_for_the_target_page(customs_target, rf, customs_analyst):
    from django.template.loader import render_to_string

    target = customs_target()
    html = render_to_string("live/_presence.html", {"target": target})
    assert f'data-presence-ws="/ws/targets/{target.pk}/presence/"' in html and "js/presence.js" in html
