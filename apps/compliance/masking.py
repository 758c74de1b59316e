"""Depersonalisation: after a source's period, the fields that identify a person are masked everywhere.

``subject_is_masked(user, subject)`` is the one question every surface asks (pages, API, exports, boards,
reports); ``masked_facts`` and ``masked_title`` give what may be shown instead. Matching still works on
masked data because identity links use keyed hashes (``SubjectKey``), never the names themselves.
Seeing a masked record again needs an approved, unexpired unmasking request (break-glass).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.agencies.operations import membership_of

MASK = "•••"

#: Reason kinds whose text may name a person (a watchlist entry matched, a person's free text): withheld
#: where personal data is (``apps.targeting.disclosure``) and erased with it (``erasure``).
PERSONAL_REASON_KINDS = frozenset({"watchlist", "person"})

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


def masked_subjects_q(user: Any, now=None) -> Q:
    """The subjects shown masked to ``user``: depersonalised travellers without an unmask grant.

    Searches exclude them from text matches: finding a masked traveller by the name, document or date
    of birth typed would re-identify him however masked the answer is. One ``Q`` per source (sources are
    few), since each source has its own period.
    """
    from django.apps import apps  # the intake app sits above this one: no import of its models

    from apps.compliance.models import UnmaskRequest

    now = now or timezone.now()
    periods = apps.get_model("intake", "DataSource").objects.filter(depersonalise_after_days__gt=0)
    q = Q(pk__in=[])
    for source_id, days in periods.values_list("pk", "depersonalise_after_days"):
        q |= Q(source_id=source_id, received_at__lte=now - timedelta(days=days))
    granted = UnmaskRequest.objects.filter(
        requested_by=user, status=UnmaskRequest.Status.APPROVED, expires_at__gt=now
    ).values("subject_id")
    return Q(kind="traveller") & q & ~Q(pk__in=granted)


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


#: What a stored explanation copies of the person: the value screened against the lists, the facts a rule
#: read. The list's own entry (its name, aliases) is the list owner's data and stays.
EXPLANATION_PERSONAL_DETAILS = frozenset({"query"})


def masked_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """An assessment's explanation as a depersonalised traveller's may be shown: what was screened and
    matched of the person masked, the figures kept."""

    def component(c: dict[str, Any]) -> dict[str, Any]:
        details = dict(c.get("details") or {})
        for key in EXPLANATION_PERSONAL_DETAILS & details.keys():
            details[key] = MASK
        if isinstance(details.get("matched"), dict):
            details["matched"] = masked_facts(details["matched"])
        return {**c, "details": details}

    out = dict(explanation or {})
    for key in ("components", "shadow"):
        if isinstance(out.get(key), list):
            out[key] = [component(c) for c in out[key]]
    return out
