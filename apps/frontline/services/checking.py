"""A result's input checked before anything is stored: times, goods, photos."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from apps.agencies.models import ExaminationMethod
from apps.frontline.models import (
    ExaminationOutcome,
    ExaminationResult,
    GoodsKind,
    Unit,
)
from apps.frontline.photos import MAX_PHOTOS, CheckedPhoto, check_photo

#: A tablet clock may run a little fast; a result "ending" further in the future is refused.
CLOCK_SKEW = timedelta(minutes=15)


#: An examination longer than this is a typing error.
MAX_DURATION = timedelta(hours=24)


#: Lines of goods one result may list.
MAX_GOODS = 20


class Conflict(ValidationError):
    """The examination already has a result (recorded by a colleague, or on another tablet)."""


@dataclass(frozen=True, slots=True)
class GoodsLine:
    kind: str
    quantity: Decimal
    unit: str
    estimated_value: Decimal | None = None
    description: str = ""


@dataclass(slots=True)
class ResultInput:
    """A result as the officer entered it, parsed but not yet checked against the rules below."""

    idempotency_key: uuid.UUID
    method: str
    outcome: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    revenue_at_stake: Decimal | None = None
    notes: str = ""
    goods: list[GoodsLine] = field(default_factory=list)
    entered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a recording call returns: the stored row, and whether this call created it."""

    result: ExaminationResult
    created: bool


def _check_input(data: ResultInput, *, not_before: datetime | None) -> ResultInput:
    """Apply the examination's rules; raise ``ValidationError`` naming the field."""
    errors: dict[str, str] = {}
    now = timezone.now()
    if data.method not in ExaminationMethod.values:
        errors["method"] = "Choose how you examined: documents, scan, physical, dog or interview."
    if data.outcome not in ExaminationOutcome.values:
        errors["outcome"] = "Choose the outcome: no finding, irregularity, seizure or refusal of entry."
    ended = data.ended_at or now
    started = data.started_at or ended
    if ended > now + CLOCK_SKEW:
        errors["ended_at"] = "The end time is in the future: check the tablet's clock."
    elif started > ended:
        errors["started_at"] = "The examination must start before it ends."
    elif ended - started > MAX_DURATION:
        errors["started_at"] = "An examination cannot last more than 24 hours: check the start time."
    elif not_before is not None and started < not_before - CLOCK_SKEW:
        errors["started_at"] = "The examination cannot start before the instruction was sent."
    if data.revenue_at_stake is not None and data.revenue_at_stake < 0:
        errors["revenue_at_stake"] = "Revenue at stake cannot be negative."
    if len(data.goods) > MAX_GOODS:
        errors["goods"] = f"At most {MAX_GOODS} lines of goods."
    for i, line in enumerate(data.goods, start=1):
        if line.kind not in GoodsKind.values:
            errors["goods"] = f"Goods line {i}: choose what was found from the list."
        elif line.unit not in Unit.values:
            errors["goods"] = f"Goods line {i}: choose a unit."
        elif line.quantity is None or line.quantity <= 0:
            errors["goods"] = f"Goods line {i}: the quantity must be more than zero."
        elif line.estimated_value is not None and line.estimated_value < 0:
            errors["goods"] = f"Goods line {i}: the value cannot be negative."
    if data.outcome == ExaminationOutcome.SEIZURE and not data.goods and "goods" not in errors:
        errors["goods"] = "A seizure needs at least one line of goods: what, how much."
    if data.outcome == ExaminationOutcome.NO_FINDING and data.goods:
        errors["goods"] = "No finding was chosen, but goods were entered: choose irregularity or seizure."
    if len(data.notes) > 5000:
        errors["notes"] = "Notes are limited to 5,000 characters."
    if errors:
        raise ValidationError(errors)
    data.started_at, data.ended_at = started, ended
    return data


def checked_times(data: ResultInput) -> tuple[datetime, datetime]:
    """The start and end of a result ``_check_input`` has passed: it fills in both."""
    assert data.started_at is not None and data.ended_at is not None, "the result was not checked"
    return data.started_at, data.ended_at


def _check_photos(photos: Iterable[UploadedFile]) -> list[CheckedPhoto]:
    photos = [p for p in photos if p is not None]
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": f"At most {MAX_PHOTOS} photos per result."})
    return [check_photo(p) for p in photos]
