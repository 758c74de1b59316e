"""Fixtures of the alert exchange: a centre with a partner administration, and a STIX validator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_string

from tests.alerts.world import seed_site


@pytest.fixture
def site(db: Any) -> Any:
    return seed_site(code="CUS", partner_code="BEC", partner_name="Belgian Customs")


def assert_valid_stix(bundle: dict[str, Any]) -> None:
    """The OASIS validator's verdict on a bundle the product wrote: no error (warnings are advice)."""
    results = validate_string(json.dumps(bundle), ValidationOptions(strict=False))
    errors = (
        [str(e) for obj in results.object_results for e in obj.errors]
        if hasattr(results, "object_results")
        else []
    )
    assert results.is_valid, errors or [str(e) for e in getattr(results, "errors", [])]
