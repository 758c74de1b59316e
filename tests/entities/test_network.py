"""The network page and its JSON: hops, filters, scoping of every node and edge, masking, access log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.compliance.models import AccessLogEntry
from apps.entities.network import network
from tests.entities.network_world import build


@pytest.fixture
def net(world):
    NET.clear()
    NET.update(build(world))
    return NET


NET: dict = {}


def names(graph) -> set[str]:
    by_id = {s.pk: name for name, s in NET.items()}
    return {by_id[pk] for pk in graph.nodes}


def test_hops_reach_further_and_another_agencys_records_never_appear(net, customs_analyst, police_liaison):
    ana = net["ana"]
    assert names(network(customs_analyst, ana, hops=1)) == {"ana", "ben"}
    assert names(network(customs_analyst, ana, hops=2)) == {"ana", "ben", "cat"}
    three = network(customs_analyst, ana, hops=3)
    # pol is the police's: not drawn, and eve (reachable only through pol) not reached.
    assert names(three) == {"ana", "ben", "cat", "dan"}
    assert three.nodes[net["dan"].pk]["label"] == "Traveller (depersonalised)"  # received 400 days ago
    assert {e["kind"] for e in three.edges.values()} == {"booking", "phone", "email"}
    assert all(e["source"] in three.nodes and e["target"] in three.nodes for e in three.edges.values())
    # The shared value never travels: an edge says what kind of thing is shared, not what it is.
    assert "+4477" not in str(three.as_json())
    # The police see their own record and nothing of customs' behind it.
    assert names(network(police_liaison, net["pol"], hops=3)) == {"pol"}


def test_filters_by_link_kind_and_period(net, customs_analyst):
    ana = net["ana"]
    assert names(network(customs_analyst, ana, hops=3, kinds={"booking"})) == {"ana", "ben"}
    recent = network(customs_analyst, ana, hops=3, since=timezone.now() - timedelta(days=30))
    assert names(recent) == {"ana", "ben", "cat"}  # dan arrived a year ago


def test_json_expands_one_record_and_logs_every_record_read(net, client_for, customs_analyst, outsider):
    client = client_for(customs_analyst)
    before = AccessLogEntry.objects.count()
    response = client.get(reverse("entities:network_json", args=[net["ben"].pk]), {"hops": 1})
    assert response.status_code == 200
    body = response.json()
    assert {n["id"] for n in body["nodes"]} == {net["ana"].pk, net["ben"].pk, net["cat"].pk}
    logged = AccessLogEntry.objects.order_by("pk")[before:]
    assert sorted(int(e.object_id) for e in logged) == sorted(n["id"] for n in body["nodes"])
    page = client.get(reverse("entities:network", args=[net["ana"].pk]), {"hops": 3})
    assert page.status_code == 200 and b"graph-data" in page.content and b"POL, Test" not in page.content
    outsider_client = client_for(outsider)
    assert outsider_client.get(reverse("entities:network_json", args=[net["ben"].pk])).status_code == 404


def test_a_depersonalised_traveller_is_drawn_masked(net, customs_analyst):
    source = net["cat"].source
    source.depersonalise_after_days = 1
    source.save()
    graph = network(customs_analyst, net["ana"], hops=2)
    cat = graph.nodes[net["cat"].pk]
    assert cat["masked"] and "CAT" not in cat["label"]
