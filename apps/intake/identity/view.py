"""The person view for a viewer, and the access log of the merged records it read."""

from __future__ import annotations

from typing import Any

from apps.agencies.operations import can
from apps.compliance.models import UnmaskRequest
from apps.intake.identity.records import _cluster, _records, _title
from apps.intake.identity.says import _journeys, _links, _parties
from apps.intake.identity.shapes import HIDDEN_FACTS, IDENTITY_GROUPS, PersonView
from apps.intake.identity.work import _work
from apps.intake.models import Outcome, Subject
from apps.intake.presentation import GROUPS, merge_facts


def person_view(viewer: Any, subject: Subject) -> PersonView:
    """The page of the person (or trader) ``subject`` is a record of, as ``viewer`` may see it.

    ``subject`` must be one the viewer may see (the view's ``get_object_for``); everything else is read
    through ``visible_to`` here.
    """
    visible = Subject.objects.visible_to(viewer).select_related("source", "message", "port")
    found, keys_of, capped = _cluster(visible, subject)
    records = _records(viewer, subject, found, keys_of)
    opened = next(r for r in records if r.opened)
    view = PersonView(
        kind=subject.kind,
        kind_label=subject.get_kind_display(),
        title="",
        opened=opened,
        records=records,
        identity=[],
        capped=capped,
    )
    merged = view.merged or [opened]
    items = [(r.facts, r.provenance) for r in merged]
    view.title = _title(subject, merged)
    ids = [r.id for r in records]
    if subject.kind == "traveller":
        view.identity = merge_facts(items, IDENTITY_GROUPS["traveller"])
        view.journeys = _journeys(merged)
    else:
        groups = IDENTITY_GROUPS.get(subject.kind) or GROUPS.get(subject.kind, [])
        view.identity = merge_facts(items, groups, other="Other facts", leave_out=HIDDEN_FACTS)
    if subject.kind == "trader":
        view.parties, view.party_count = _parties(visible, ids)
    view.links = _links(viewer, visible, ids, trader=subject.kind == "trader")
    number_of = {r.id: r.number for r in records}
    view.outcomes = [
        (o, number_of[o.subject_id])
        for o in Outcome.objects.filter(subject_id__in=ids).order_by("-recorded_at")[:20]
        if o.subject_id is not None  # always: filtered on it
    ]
    if opened.status == Subject.Status.SUPERSEDED:
        view.opened_sections = merge_facts(
            [(opened.facts, opened.provenance)],
            GROUPS.get(subject.kind, []),
            other="Other facts",
            leave_out=HIDDEN_FACTS - {"flight_number"},
        )
    view.history = list(
        visible.filter(source_id=subject.source_id, external_id=subject.external_id).order_by("-version")[:20]
    )
    masked_ids = [r.id for r in records if r.masked]
    view.can_ask_unmask = bool(masked_ids) and can(viewer, "unmask.request")
    if masked_ids:
        view.pending_unmask = set(
            UnmaskRequest.objects.filter(
                subject_id__in=masked_ids, requested_by=viewer, status=UnmaskRequest.Status.PENDING
            ).values_list("subject_id", flat=True)
        )
    view.work = _work(viewer, records)
    return view


def log_merged_reads(request: Any, view: PersonView) -> None:
    """One access-log entry for each record merged into the page besides the one opened.

    The personal-data gate logs the opened record (its id is in the URL); the others were read too, and
    their owners' data protection officers must find those reads (a partner's API record merged into a
    customs analyst's view of a PNR).
    """
    from apps.compliance.services import record_access

    surface = request.resolver_match.view_name if request.resolver_match else request.path
    for record in view.records:
        if record.opened:
            continue
        note = " (depersonalised)" if record.masked else ""
        record_access(
            request=request, action="view", object_type="subject", object_id=record.id,
            summary=f"{surface}: merged into the page of subject {view.opened.id}{note}",
            obj=record,  # read for its owner agency, as a subject is
        )  # fmt: skip
