"""Workflow steps of data quality: recompute the figures, and ask a carrier for the data it left out.

Each step checks role and agency first: a request goes out only from the agency that owns the source
(a partner that sees a shared feed may read its quality, not speak for it to the carrier).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.intake.models import DataSource, Subject
from apps.quality import measure
from apps.quality.feeds import FEEDS, carrier_of, feed_of, field_label, missing_fields
from apps.quality.models import CarrierContact, DataRequest

__all__ = ["MissingMovement", "missing_by_movement", "recompute", "send_data_request"]

#: Movements (flights, waybills, declarations) listed in a request, most incomplete first.
MAX_MOVEMENTS = 50


def recompute(*, actor: User) -> int:
    """Recompute the figures of the sources the actor's agency may see (``quality.request``)."""
    check(actor, "quality.request")
    membership = membership_of(actor)
    visible = DataSource.objects.filter(DataSource.visibility_q(membership)).values_list("pk", flat=True)
    return measure.refresh(source_ids=list(visible))


@dataclass
class MissingMovement:
    """One flight (API/PNR) or one consignment reference, and what its records lacked."""

    feed: str
    reference: str
    records: int
    fields: dict[str, int]

    @property
    def labels(self) -> list[str]:
        return [f"{field_label(self.feed, name)} ({n})" for name, n in sorted(self.fields.items())]


def _reference(feed: str, facts: dict[str, Any]) -> str:
    if feed in {"api", "pnr"}:
        day = str(facts.get("departure_at") or "")[:10]
        return f"{facts.get('flight_number') or 'flight not named'} {day}".strip()
    return str(
        facts.get("declaration_id") or facts.get("waybill") or facts.get("mrn") or "reference not given"
    )


def missing_by_movement(
    source: DataSource, carrier: str, *, weeks: int = measure.WEEKS, now: dt.datetime | None = None
) -> list[MissingMovement]:
    """What the carrier's records of the window lacked, by flight or consignment (the source already
    checked visible by the caller)."""
    start = dt.datetime.combine(measure.window_start(weeks, now), dt.time(), dt.UTC)
    required = measure.required_by_feed()
    found: dict[tuple[str, str], MissingMovement] = {}
    rows = (
        Subject.objects.filter(
            source=source,
            kind__in=["traveller", "consignment"],
            message__isnull=False,
            received_at__gte=start,
        )
        .order_by("received_at")
        .values_list("kind", "facts")
    )
    for kind, facts in rows.iterator(chunk_size=2000):
        feed = feed_of(source.kind, kind, facts)
        if feed is None or carrier_of(feed, facts) != carrier:
            continue
        lacking = missing_fields(feed, facts, required[feed])
        if not lacking:
            continue
        reference = _reference(feed, facts)
        movement = found.setdefault((feed, reference), MissingMovement(feed, reference, 0, defaultdict(int)))
        movement.records += 1
        for name in lacking:
            movement.fields[name] += 1
    movements = sorted(found.values(), key=lambda m: (-m.records, m.reference))
    for movement in movements:
        movement.fields = dict(movement.fields)
    return movements[:MAX_MOVEMENTS]


class MissingField(TypedDict):
    """One line of a data request: a field a feed's records lacked, and in how many records."""

    feed: str
    feed_label: str
    field: str
    label: str
    records: int


def send_data_request(
    *,
    actor: User,
    source: DataSource,
    carrier: str,
    contact_name: str,
    contact_email: str,
    due_by: dt.date,
    note: str = "",
    now: dt.datetime | None = None,
) -> DataRequest:
    """E-mail the carrier's contact the list of what its records lacked and the date to send it by.

    The contact given is kept for the next request. The request is stored as sent (``DataRequest``).
    """
    check(actor, "quality.request", source)
    membership = membership_of(actor)
    if membership.agency_id != source.owner_agency_id:
        raise PermissionDenied("Only the agency that owns this source may write to its carriers.")
    now = now or timezone.now()
    contact_email = (contact_email or "").strip()
    try:
        validate_email(contact_email)
    except ValidationError:
        raise ValidationError({"contact_email": "Give the carrier's e-mail address."}) from None
    if due_by <= timezone.localdate(now):
        raise ValidationError({"due_by": "The date to send the data by must be after today."})
    figures = measure.carrier_figures(actor, source, carrier, now=now)
    missing: list[MissingField] = [
        {"feed": f.feed, "feed_label": f.feed_label, "field": name, "label": label, "records": n}
        for f in figures
        for name, label, n in f.missing_fields
    ]
    if not missing:
        raise ValidationError("Nothing is missing from this carrier's records in the period shown.")
    movements = missing_by_movement(source, carrier, now=now)
    context = {
        "carrier": carrier,
        "contact_name": contact_name.strip() or carrier,
        "source": source,
        "figures": figures,
        "missing": missing,
        "movements": movements,
        "due_by": due_by,
        "note": note.strip(),
        "agency": membership.agency,
        "sender": actor,
        "feeds": FEEDS,
    }
    subject_line = render_to_string("quality/email/request_subject.txt", context).strip()
    body = render_to_string("quality/email/request.txt", context)
    with transaction.atomic():
        CarrierContact.objects.update_or_create(
            source=source,
            carrier=carrier,
            defaults={"name": contact_name.strip() or carrier, "email": contact_email},
        )
        request = DataRequest.objects.create(
            source=source,
            feed=figures[0].feed if len(figures) == 1 else missing[0]["feed"],
            carrier=carrier,
            sent_to=contact_email,
            missing=missing,
            due_by=due_by,
            subject_line=subject_line[:250],
            body=body,
            sent_by=actor,
        )
        reply_to = [actor.email] if getattr(actor, "email", "") else []
        message = EmailMessage(
            subject=subject_line, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[contact_email],
            reply_to=reply_to,
        )  # fmt: skip
        # Sent after the commit: a request that failed to store is never sent, and a mail server that is
        # down does not roll back what the centre decided (the stored request can be sent again).
        transaction.on_commit(lambda: message.send(fail_silently=False))
    return request
