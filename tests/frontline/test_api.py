"""Port systems record results through the API with an idempotency key and read what they may see."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from apps.frontline.models import ExaminationResult

pytestmark = pytest.mark.django_db

URL = "/api/v1/examination-results/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _payload(instruction, key):
    return {
        "instruction": instruction.pk,
        "idempotency_key": str(key),
        "method": "scan",
        "outcome": "seizure",
        "started_at": "",
        "goods": [{"kind": "tobacco", "quantity": "12000", "unit": "sticks", "estimated_value": "4800"}],
        "revenue_at_stake": "5100.00",
    }


def test_post_twice_with_one_key_records_once(instruction, port_officer):
    key = uuid.uuid4()
    first = _api(port_officer).post(URL, _payload(instruction, key), format="json")
    again = _api(port_officer).post(URL, _payload(instruction, key), format="json")
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.data["id"] == first.data["id"]
    assert ExaminationResult.objects.count() == 1
    assert first.data["goods"][0]["unit"] == "sticks" and first.data["finding"] is True


def test_results_are_listed_to_those_who_may_see_them(
    instruction, port_officer, other_port_officer, outsider
):
    _api(port_officer).post(URL, _payload(instruction, uuid.uuid4()), format="json")
    assert len(_api(port_officer).get(URL).data["results"]) == 1
    assert _api(other_port_officer).get(URL).data["results"] == []
    assert _api(outsider).get(URL).data["results"] == []


def test_other_port_and_other_roles_are_refused(instruction, other_port_officer, customs_analyst):
    assert (
        _api(other_port_officer).post(URL, _payload(instruction, uuid.uuid4()), format="json").status_code
        == 404
    )
    assert (
        _api(customs_analyst).post(URL, _payload(instruction, uuid.uuid4()), format="json").status_code == 403
    )
    assert not ExaminationResult.objects.exists()


def test_a_bad_result_names_the_field(instruction, port_officer):
    payload = _payload(instruction, uuid.uuid4())
    payload["goods"] = []
    response = _api(port_officer).post(URL, payload, format="json")
    assert response.status_code == 400 and [e["field"] for e in response.data["errors"]] == ["goods"]


def test_a_conflict_is_409(instruction, port_officer):
    _api(port_officer).post(URL, _payload(instruction, uuid.uuid4()), format="json")
    response = _api(port_officer).post(URL, _payload(instruction, uuid.uuid4()), format="json")
    assert response.status_code == 409
