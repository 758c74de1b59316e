"""Depersonalisation: after a source's period, the fields that identify a person are masked everywhere.

``subject_is_masked(user, subject)`` is the one question every surface asks (pages, API, exports, boards,
reports); ``masked_facts`` and ``masked_title`` give what may be shown instead. Matching still works on
masked data because identity links use keyed hashes (``SubjectKey``), never the names themselves.
Seeing a masked record again needs an approved, unexpired unmasking request (break-glass).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.agencies.operations import membership_of

MASK = "•••"

#: Facts that identify a person (PNR/API): names, dates of birth, documents, contacts, booking and
#: payment data, frequent-flyer numbers, seats and free remarks.
PERSONAL_FACTS = frozenset(
    {
        "surname", "given_names", "full_name", "date_of_birth", "document_number", "document_expiry",
        "booking_ref", "frequent_flyer", "seat", "payment_form", "email", "phone", "address",
        "place_of_birth",
    }
)  # fmt: skip


def depersonalise_at(subject: Any):
    """When the subject's personal fields are masked, by its source's period (None: never)."""
    source = subject.source
    if subject.kind != "traveller" or not source.depersonalise_after_days:
        return None
    return subject.received_at + timedelta(days=source.depersonalise_after_days)


def is_depersonalised(subject: Any, now=None) -> bool:
    when = depersonalise_at(subject)
    return when is not None and (now or timezone.now()) >= when


def has_unmask_grant(user: Any, subject: Any, now=None) -> bool:
    from apps.compliance.models import UnmaskRequest

    membership = membership_of(user)
    if membership is None:
        return False
    return UnmaskRequest.objects.filter(
        subject_id=subject.pk,
        requested_by=user,
        status=UnmaskRequest.Status.APPROVED,
        expires_at__gt=now or timezone.now(),
    ).exists()


def subject_is_masked(user: Any, subject: Any, now=None) -> bool:
    return is_depersonalised(subject, now) and not has_unmask_grant(user, subject, now)


def masked_facts(facts: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in facts.items():
        if key in PERSONAL_FACTS and value not in (None, ""):
            out[key] = MASK
        elif key == "age" and value is not None:
            out[key] = f"{(int(value) // 10) * 10}s"
        else:
            out[key] = value
    return out


def masked_title(subject: Any) -> str:
    flight = (subject.facts or {}).get("flight_number")
    return f"{subject.get_kind_display()} (depersonalised)" + (f" on {flight}" if flight else "")
