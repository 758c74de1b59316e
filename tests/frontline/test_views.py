"""The tablet pages: the officer's list, the instruction page, the form (plain and the script's JSON)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from apps.frontline.models import ExaminationResult
from apps.targeting.models import TargetState
from tests.frontline.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db


def _form(key=None, **extra):
    data = {
        "action": "record",
        "idempotency_key": str(key or uuid.uuid4()),
        "method": "physical",
        "outcome": "seizure",
        "goods-0-kind": "cocaine",
        "goods-0-quantity": "12,5",
        "goods-0-unit": "kg",
        "goods-0-value": "400000",
        "revenue_at_stake": "",
        "notes": "Evaporator housing",
    }
    data.update(extra)
    return data


def test_home_lists_my_port_only_and_the_menu_links_to_it(client_for, port_officer, make_instruction, world):
    mine = make_instruction()
    theirs = make_instruction(port=world.port_b)
    response = client_for(port_officer).get(reverse("frontline:home") + "?shift=all")
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("frontline:instruction", args=[mine.pk]) in body
    assert reverse("frontline:instruction", args=[theirs.pk]) not in body
    assert 'href="/port/"' in body  # "My instructions" in the navigation


def test_another_ports_officer_gets_404(client_for, other_port_officer, instruction):
    client = client_for(other_port_officer)
    url = reverse("frontline:instruction", args=[instruction.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, _form()).status_code == 404
    assert not ExaminationResult.objects.exists()


def test_the_instruction_page_shows_what_to_look_for_and_the_form(client_for, port_officer, instruction):
    response = client_for(port_officer).get(reverse("frontline:instruction", args=[instruction.pk]))
    body = response.content.decode()
    assert "evaporator" in body and "Start examination" in body and "Record result" in body
    assert 'capture="environment"' in body and 'accept="image/*"' in body


def test_the_plain_form_records_with_a_photo(client_for, port_officer, instruction):
    client = client_for(port_officer)
    url = reverse("frontline:instruction", args=[instruction.pk])
    assert client.post(url, {"action": "start"}).status_code == 302
    instruction.target.refresh_from_db()
    assert instruction.target.state == TargetState.IN_EXAMINATION
    photo = _upload()
    response = client.post(url, {**_form(), "photos": photo})
    assert response.status_code == 302
    result = ExaminationResult.objects.get()
    assert result.goods.get().quantity == 12.5 and result.photos.count() == 1
    page = client.get(url).content.decode()
    assert "Seizure" in page and reverse("frontline:photo", args=[result.photos.get().pk]) in page
    assert client.get(reverse("frontline:photo", args=[result.photos.get().pk])).status_code == 200


def test_the_scripts_replay_is_idempotent(client_for, port_officer, instruction):
    client = client_for(port_officer)
    url = reverse("frontline:instruction", args=[instruction.pk])
    key = uuid.uuid4()
    first = client.post(url, _form(key), headers={"accept": "application/json"})
    again = client.post(url, _form(key), headers={"accept": "application/json"})
    assert first.status_code == 201 and first.json()["status"] == "recorded"
    assert again.status_code == 200 and again.json()["result"] == first.json()["result"]
    other = client.post(url, _form(), headers={"accept": "application/json"})
    assert other.status_code == 409 and "already recorded" in other.json()["errors"]["outcome"]
    assert ExaminationResult.objects.count() == 1


def test_errors_come_back_on_the_form(client_for, port_officer, instruction):
    client = client_for(port_officer)
    url = reverse("frontline:instruction", args=[instruction.pk])
    response = client.post(url, _form(**{"goods-0-kind": "", "goods-0-quantity": ""}))
    assert response.status_code == 400
    assert "A seizure needs at least one line of goods" in response.content.decode()
    bad = client.post(
        url, {**_form(), "photos": _upload(b"hello", "fake.jpg")}, headers={"accept": "application/json"}
    )
    assert bad.status_code == 400 and "photos" in bad.json()["errors"]


def test_a_supervisor_corrects_on_the_page(client_for, port_officer, customs_supervisor, instruction):
    url = reverse("frontline:instruction", args=[instruction.pk])
    client_for(port_officer).post(url, _form())
    client = client_for(customs_supervisor)
    page = client.get(url).content.decode()
    assert "Correct this result" in page and "Record result" not in page
    fix = _form(action="correct", outcome="irregularity", reason="Weighed again: 11 kg")
    fix["goods-0-quantity"] = "11"
    assert client.post(url, fix).status_code == 302
    page = client.get(url).content.decode()
    assert "Irregularity" in page and "Weighed again" in page and "History: original and 1 correction" in page
    assert ExaminationResult.objects.count() == 2


def test_service_worker_and_manifest_are_served_for_the_port_scope(client):
    response = client.get(reverse("frontline:service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/port/"
    assert "__CACHE_VERSION__" not in response.content.decode()
    manifest = client.get(reverse("frontline:manifest"))
    assert manifest.json()["scope"] == "/port/"


def _upload(data: bytes | None = None, name: str = "photo.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(), content_type="image/jpeg")
