"""Parsing the tablet's result form (and the API's payload) into a ``ResultInput``; the rules live in services."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.agencies.models import ExaminationMethod
from apps.frontline.models import GOODS_GROUPS, ExaminationOutcome, GoodsKind, Unit
from apps.frontline.services import MAX_GOODS, GoodsLine, ResultInput

#: Rows of goods the page offers before the officer asks for more.
GOODS_ROWS = 3


def parse_moment(value: Any, tz_name: str = "UTC") -> datetime | None:
    """An ISO date-time from the tablet (with offset), or a local one from a plain form (the port's time)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        parsed = parse_datetime(str(value).strip())
        if parsed is None:
            raise ValidationError("Enter a date and time.")
        moment = parsed
    if timezone.is_naive(moment):
        try:
            tz = ZoneInfo(tz_name or "UTC")
        except (KeyError, ValueError):
            tz = ZoneInfo("UTC")
        moment = timezone.make_aware(moment, tz)
    return moment


def _decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite() or abs(number) >= Decimal("1e11"):
        raise ValidationError({field: "Enter a sensible number."})
    return number


class ResultForm(forms.Form):
    """The scalar fields of a result; goods come as ``goods-<n>-kind|quantity|unit|value|description``."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    method = forms.ChoiceField(choices=ExaminationMethod.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(choices=ExaminationOutcome.choices, widget=forms.RadioSelect)
    started_at = forms.CharField(required=False)
    ended_at = forms.CharField(required=False)
    entered_at = forms.CharField(required=False, widget=forms.HiddenInput)
    revenue_at_stake = forms.CharField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea, max_length=5000)
    reason = forms.CharField(required=False, widget=forms.Textarea, max_length=2000)

    def __init__(self, *args: Any, tz_name: str = "UTC", **kwargs: Any) -> None:
        self.tz_name = tz_name
        super().__init__(*args, **kwargs)

    def to_input(self) -> ResultInput:
        """The parsed result; raises ``ValidationError`` with field names when the form is invalid."""
        if not self.is_valid():
            raise ValidationError({k: " ".join(str(m) for m in v) for k, v in self.errors.items()})
        data = self.cleaned_data
        errors: dict[str, Any] = {}
        moments: dict[str, datetime | None] = {}
        for name in ("started_at", "ended_at", "entered_at"):
            try:
                moments[name] = parse_moment(data.get(name), self.tz_name)
            except ValidationError:
                errors[name] = "Enter a date and time."
        try:
            revenue = _decimal(data.get("revenue_at_stake"), "revenue_at_stake")
        except ValidationError as error:
            errors.update(error.message_dict)
            revenue = None
        try:
            goods = goods_from_post(self.data)
        except ValidationError as error:
            errors.update(error.message_dict)
            goods = []
        if errors:
            raise ValidationError(errors)
        return ResultInput(
            idempotency_key=data["idempotency_key"],
            method=data["method"],
            outcome=data["outcome"],
            started_at=moments["started_at"],
            ended_at=moments["ended_at"],
            entered_at=moments["entered_at"],
            revenue_at_stake=revenue,
            notes=data.get("notes") or "",
            goods=goods,
        )


def goods_from_post(post: Any) -> list[GoodsLine]:
    """Goods lines from form fields; a line with neither kind nor quantity is an unused row."""
    lines: list[GoodsLine] = []
    for i in range(MAX_GOODS + 1):
        prefix = f"goods-{i}-"
        kind = (post.get(prefix + "kind") or "").strip()
        quantity = (post.get(prefix + "quantity") or "").strip()
        if not kind and not quantity:
            continue
        lines.append(
            goods_line(
                {
                    "kind": kind,
                    "quantity": quantity,
                    "unit": post.get(prefix + "unit") or "",
                    "estimated_value": post.get(prefix + "value") or "",
                    "description": post.get(prefix + "description") or "",
                },
                len(lines) + 1,
            )
        )
    return lines


def goods_line(raw: dict[str, Any], number: int) -> GoodsLine:
    """One goods line from loose input, numbers checked here, the rest by the service."""
    quantity = _decimal(raw.get("quantity"), "goods")
    if quantity is None:
        raise ValidationError({"goods": f"Goods line {number}: how much was found?"})
    return GoodsLine(
        kind=str(raw.get("kind") or ""),
        quantity=quantity,
        unit=str(raw.get("unit") or ""),
        estimated_value=_decimal(raw.get("estimated_value"), "goods"),
        description=str(raw.get("description") or "")[:200],
    )


def new_key() -> uuid.UUID:
    """A key for a form rendered by the server; the tablet's script replaces it with its own."""
    return uuid.uuid4()


def form_choices() -> dict[str, Any]:
    """The controlled lists the result form draws."""
    return {
        "methods": ExaminationMethod.choices,
        "outcomes": ExaminationOutcome.choices,
        "goods_groups": [(label, [(k.value, k.label) for k in kinds]) for label, kinds in GOODS_GROUPS],
        "units": Unit.choices,
        "goods_rows": range(GOODS_ROWS),
        "goods_kinds": GoodsKind.choices,
    }
