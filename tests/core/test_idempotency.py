"""An Idempotency-Key whose first request died is not blocked for the key's whole lifetime."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.core.idempotency import IN_FLIGHT_LIMIT
from apps.core.models import IdempotencyKey
from apps.frontline.models import ExaminationResult
from tests.core.test_api_conventions import _result, as_user, instruction  # noqa: F401 (fixture)


def test_a_claim_left_by_a_dead_request_is_taken_by_the_retry(instruction, port_officer):  # noqa: F811
    client = as_user(port_officer)
    body = _result(instruction)
    url = "/api/v1/examination-results/"
    # The first request claimed the key and its worker was killed: no answer was ever stored.
    IdempotencyKey.objects.create(
        user=port_officer, key="k-dead", method="POST", path=url,
        request_hash="unknown", created_at=timezone.now() - IN_FLIGHT_LIMIT - timedelta(seconds=1),
        expires_at=timezone.now() + timedelta(hours=23),
    )  # fmt: skip
    retry = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-dead")
    assert retry.status_code == 201 and ExaminationResult.objects.count() == 1
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-dead")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert ExaminationResult.objects.count() == 1


def test_a_claim_still_running_is_not_taken(instruction, port_officer):  # noqa: F811
    url = "/api/v1/examination-results/"
    IdempotencyKey.objects.create(
        user=port_officer, key="k-live", method="POST", path=url, request_hash="unknown",
        created_at=timezone.now() - timedelta(seconds=30), expires_at=timezone.now() + timedelta(hours=23),
    )  # fmt: skip
    answer = as_user(port_officer).post(
        url, _result(instruction), format="json", HTTP_IDEMPOTENCY_KEY="k-live"
    )
    assert answer.status_code in (409, 422) and ExaminationResult.objects.count() == 0
