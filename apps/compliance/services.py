"""Compliance services: purpose of access, the access log, break-glass unmasking and retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.compliance.chain import append
from apps.compliance.erasure import erase_copies, purge_messages
from apps.compliance.models import AccessLogEntry, Purpose, RetentionRun, UnmaskRequest

SESSION_KEY = "ratc_purpose"
API_HEADER = "HTTP_X_ACCESS_PURPOSE"
API_TEXT_HEADER = "HTTP_X_ACCESS_PURPOSE_TEXT"
UNMASK_HOURS = 24


class PurposeRequired(PermissionDenied):
    """Personal data was asked for without a declared purpose."""


@dataclass(frozen=True)
class DeclaredPurpose:
    code: str
    text: str


def set_purpose(request: Any, code: str, text: str = "") -> None:
    if code not in Purpose.values:
        raise ValueError(f"unknown purpose {code!r}")
    if code == Purpose.INVESTIGATION and not text.strip():
        raise ValueError("an investigation needs its case reference")
    request.session[SESSION_KEY] = {"code": code, "text": text.strip()[:300]}


def purpose_of(request: Any) -> DeclaredPurpose | None:
    """The purpose declared for this session (pages) or this call (API header ``X-Access-Purpose``)."""
    code = request.META.get(API_HEADER)
    if code:
        return (
            DeclaredPurpose(code, request.META.get(API_TEXT_HEADER, "")[:300])
            if code in Purpose.values
            else None
        )
    stored = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    return DeclaredPurpose(stored["code"], stored.get("text", "")) if stored else None


def require_purpose(request: Any) -> DeclaredPurpose:
    purpose = purpose_of(request)
    if purpose is None:
        raise PurposeRequired(
            "State the purpose of this access first (pages ask once per session; the API takes the "
            f"X-Access-Purpose header, one of: {', '.join(Purpose.values)})."
        )
    return purpose


def data_owner_agency_id(obj: Any = None, object_type: str = "", object_id: Any = "") -> int | None:
    """The agency owning the source of the data read: a subject's owner, a target's subject's owner.

    ``obj`` is read duck-typed (a subject has ``source_id`` and ``owner_agency_id``; a target has a
    ``subject``), so this lower app needs no import of the apps above it. Without an object, a
    ``subject...`` object type and id are looked up by the model's label.
    """
    if obj is not None:
        subject = getattr(obj, "subject", None) if not hasattr(obj, "source_id") else obj
        return getattr(subject, "owner_agency_id", None)
    if object_type.startswith("subject") and str(object_id).isdigit():
        from django.apps import apps

        subject_model = apps.get_model("intake", "Subject")
        owners = subject_model.objects.filter(pk=int(object_id)).values_list("owner_agency_id", flat=True)
        return owners.first()
    return None


def record_access(
    *,
    request: Any,
    action: str,
    object_type: str,
    object_id: Any = "",
    summary: str,
    disclosed_to: str = "",
    obj: Any = None,
    key: int | None = None,
) -> AccessLogEntry:
    """Append an access to personal data to the hash-chained log (refused without a purpose).

    The entry names the agency that owns the data read (:func:`data_owner_agency_id`, from ``obj`` or
    the subject id), so that agency's data protection officer sees partners' reads of its data.
    ``key``: the entry's key, taken from the log's sequence by a statement of the request's own (the
    gate's ``drawing_access_key``), else the entry takes one itself.
    """
    purpose = require_purpose(request)
    membership = membership_of(request.user)
    if membership is None:
        raise PermissionDenied("No membership.")
    return append(
        AccessLogEntry,
        sequence_key=key,
        at=timezone.now(),
        user=request.user,
        agency_id=membership.agency_id,
        action=action,
        purpose=purpose.code,
        purpose_text=purpose.text,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        disclosed_to=disclosed_to[:100],
        data_owner_agency_id=data_owner_agency_id(obj, object_type, object_id),
    )


def personal_data_gate(request: Any, subject: Any, *, surface: str):
    """For a page that shows a traveller's personal data: the redirect to the purpose form when no purpose
    is declared yet (return it), else None after logging the view. Other subjects pass freely."""
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import urlencode

    from apps.compliance.masking import subject_is_masked

    if subject.kind != "traveller":
        return None
    if purpose_of(request) is None:
        return redirect(f"{reverse('compliance:purpose')}?{urlencode({'next': request.get_full_path()})}")
    masked = subject_is_masked(request.user, subject)
    record_access(
        request=request, action="view", object_type=f"subject:{subject.kind}", object_id=subject.pk,
        summary=f"{surface}{' (depersonalised)' if masked else ''}", obj=subject,
    )  # fmt: skip
    return None


# --- The access log ---------------------------------------------------------------------------------

#: "ours": our officers' reads; "partners": other agencies' reads of data from our sources.
LOG_SCOPES = ("ours", "partners")


def access_log_for(actor: User, *, user: str = "", obj: str = "", action: str = "", scope: str = "") -> Any:
    """The access-log entries an auditor may review, narrowed as the page's search form narrows them.

    ``user`` is part of a username, ``obj`` a record id (digits) or text of the summary, ``action`` one
    of :class:`AccessLogEntry.Action` (ignored otherwise), ``scope`` one of :data:`LOG_SCOPES` (the data
    owner's DPO must be able to review partners' reads of its data). Needs ``audit.view``.
    """
    check(actor, "audit.view")
    rows = AccessLogEntry.objects.visible_to(actor).select_related("user", "agency", "data_owner_agency")
    own_agency_id = membership_of(actor).agency_id
    if scope == "ours":
        rows = rows.filter(agency_id=own_agency_id)
    elif scope == "partners":
        rows = rows.filter(data_owner_agency_id=own_agency_id).exclude(agency_id=own_agency_id)
    user, obj = user.strip(), obj.strip()
    if user:
        rows = rows.filter(user__username__icontains=user)
    if obj:
        rows = rows.filter(object_id=obj) if obj.isdigit() else rows.filter(summary__icontains=obj)
    if action in AccessLogEntry.Action.values:
        rows = rows.filter(action=action)
    return rows


# --- Break-glass ------------------------------------------------------------------------------------


def request_unmask(*, actor: User, subject: Any, reason: str) -> UnmaskRequest:
    check(actor, "unmask.request", subject)
    if len(reason.strip()) < 10:
        raise ValueError("Say why you need to see this record again (at least a sentence).")
    return UnmaskRequest.objects.create(
        subject=subject, agency_id=membership_of(actor).agency_id, requested_by=actor, reason=reason.strip()
    )


def decide_unmask(
    *, actor: User, unmask: UnmaskRequest, approve: bool, reason: str = "", hours: int = UNMASK_HOURS
) -> UnmaskRequest:
    """A second person with the authorising role approves (for ``hours``) or rejects."""
    check(actor, "unmask.approve", unmask)
    if unmask.requested_by_id == actor.pk:
        raise PermissionDenied("The person who asked cannot approve their own request.")
    if unmask.status != UnmaskRequest.Status.PENDING:
        raise PermissionDenied("This request has already been decided.")
    now = timezone.now()
    with transaction.atomic():
        updated = UnmaskRequest.objects.filter(pk=unmask.pk, status=UnmaskRequest.Status.PENDING).update(
            status=UnmaskRequest.Status.APPROVED if approve else UnmaskRequest.Status.REJECTED,
            decided_by=actor,
            decision_reason=reason.strip(),
            decided_at=now,
            expires_at=now + timedelta(hours=hours) if approve else None,
        )
        if updated != 1:
            raise PermissionDenied("This request has already been decided.")
    unmask.refresh_from_db()
    return unmask


# --- Retention --------------------------------------------------------------------------------------


def apply_retention(now=None) -> RetentionRun:
    """Mark depersonalised travellers and delete records past their source's retention, for good.

    Examination outcomes keep their statistics: they are detached from the deleted person, not deleted.
    """
    from apps.intake.models import DataSource, Outcome, Subject

    now = now or timezone.now()
    run = RetentionRun.objects.create()
    per_source: dict[str, dict[str, int]] = {}
    for source in DataSource.objects.all():
        mask_before = now - timedelta(days=source.depersonalise_after_days)
        delete_before = now - timedelta(days=source.retention_days)
        with transaction.atomic():
            masked = Subject.objects.filter(
                source=source, kind="traveller", masked_at__isnull=True, received_at__lte=mask_before
            ).update(masked_at=now)
            doomed = Subject.objects.filter(source=source, received_at__lte=delete_before)
            kept = Outcome.objects.filter(subject__in=doomed).update(subject=None)
            # Every copy goes: the raw messages first (they are found through the subjects).
            purge_messages(source=source, subject_ids=list(doomed.values_list("pk", flat=True)),
                           before=delete_before)  # fmt: skip
            deleted = _delete_subjects(doomed)
        per_source[source.name] = {"masked": masked, "deleted": deleted, "outcomes_kept": kept}
        run.masked += masked
        run.deleted += deleted
        run.outcomes_kept += kept
    run.per_source = per_source
    run.finished_at = timezone.now()
    run.save()
    return run


def _delete_subjects(queryset) -> int:
    """Erase subjects past retention. Those without workflow records are deleted with their links and
    keys; those a target refers to are scrubbed in place (facts, details, title, keys, links removed),
    because the workflow's transition record is kept for ever and must keep pointing at something."""
    from apps.intake.models import Subject, SubjectKey, SubjectLink

    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        return 0
    referenced: set[int] = set()
    try:
        from apps.targeting.models import Target

        referenced = set(Target.objects.filter(subject_id__in=ids).values_list("subject_id", flat=True))
    except ImportError:  # targeting is not installed
        pass
    erase_copies(subject_ids=ids, kept_ids=referenced)
    SubjectKey.objects.filter(subject_id__in=ids).delete()
    SubjectLink.objects.filter(from_subject_id__in=ids).delete()
    SubjectLink.objects.filter(to_subject_id__in=ids).delete()
    Subject.objects.filter(pk__in=referenced).update(
        facts={},
        details={},
        title="Record erased after its retention period",
        external_id="erased",
        masked_at=timezone.now(),
    )
    Subject.objects.filter(pk__in=set(ids) - referenced).delete()
    return len(ids)
