from django.urls import reverse

from tests.factories import PortCapacityFactory


def test_directory_lists_ports_and_agencies(client_for, customs_analyst, world):
    response = client_for(customs_analyst).get(reverse("agencies:directory"))
    assert response.status_code == 200
    assert b"GBFXT" in response.content and b"National Police" in response.content


def test_port_page_shows_capacity_by_shift_and_method(client_for, customs_analyst, world):
    PortCapacityFactory(port=world.port_a, shift="early", method="scan", slots=24)
    PortCapacityFactory(port=world.port_a, shift="night", method="scan", slots=9)
    response = client_for(customs_analyst).get(reverse("agencies:port", args=["GBFXT"]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Non-intrusive scan" in text and ">24<" in text and ">9<" in text


def test_unknown_port_is_404(client_for, customs_analyst):
    assert client_for(customs_analyst).get(reverse("agencies:port", args=["XXXXX"])).status_code == 404


def test_people_page_shows_own_agency_only(client_for, customs_supervisor, customs_analyst, outsider):
    response = client_for(customs_supervisor).get(reverse("agencies:people"))
    assert response.status_code == 200
    assert b"alice" in response.content and b"charlie" not in response.content


def test_people_page_is_refused_to_analysts(client_for, customs_analyst):
    assert client_for(customs_analyst).get(reverse("agencies:people")).status_code == 403
