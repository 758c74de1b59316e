"""The loop closes: when an examination follows a partner's alert, a sighting goes back to it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.alerts import stix
from apps.alerts.models import IncomingAlert, OutboundObject
from apps.alerts.services.access import log_disclosure
from apps.alerts.services.export import _queue_push
from apps.compliance.models import Purpose


def on_instruction_event(sender: Any = None, *, instruction_id: int, event: str, **kwargs: Any) -> None:
    """Listener of ``apps.targeting.events.instruction_event`` (after commit): a result recorded on a
    target that came from a partner's alert goes back to that partner as a sighting."""
    from apps.targeting.models import Instruction, TargetState

    if event != "instruction.updated":
        return
    target_id = Instruction.objects.filter(pk=instruction_id).values_list("target_id", flat=True).first()
    if target_id is None:
        return
    alert = IncomingAlert.objects.select_related("partner").filter(target_id=target_id).first()
    if alert is None:
        return
    from apps.targeting.models import Target

    if Target.objects.filter(pk=target_id, state=TargetState.RESULT_RECORDED).exists():
        send_sighting(alert=alert)


def send_sighting(*, alert: IncomingAlert) -> OutboundObject | None:
    """The examination's outcome as a sighting of the partner's alert, once per alert.

    Only the outcome, method and kinds of goods go (as the partner's account may read the result card),
    never the officer's notes or names; and only when the alert allowed action (an information-only
    alert leads to no examination, and so to nothing to report).
    """
    from apps.targeting.disclosure import disclose

    partner = alert.partner
    if not alert.may_act or alert.target_id is None or not partner.active:
        return None
    if OutboundObject.objects.filter(incoming=alert, kind=OutboundObject.Kind.SIGHTING).exists():
        return None
    target = alert.target
    assert target is not None  # target_id was checked above
    results = disclose(partner.account, target, briefing=True).results()
    if not results:
        return None
    result = results[-1]
    sender = stix.identity_for()
    seen = stix.sighting(
        of_ref=alert.stix_id,
        sender=sender,
        description=f"Examined: {result.method_label}; {result.outcome_label}.",
        properties={
            "outcome": result.outcome,
            "finding": result.finding,
            "method": result.method,
            "goods": [
                {"kind": g.kind, "description": g.description, "quantity": g.quantity, "unit": g.unit}
                for g in result.goods
            ],
            "reference": target.reference,
        },
        markings=[stix.TLP["amber+strict"]],
        seen_at=result.ended_at,
    )
    user = alert.handled_by
    with transaction.atomic():
        row = OutboundObject.objects.create(
            partner=partner, kind=OutboundObject.Kind.SIGHTING, stix_id=seen.id,
            modified=seen.modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), bundle=stix.bundle_of([seen], sender),
            target=target, incoming=alert, summary=f"Outcome of {target.reference}: {result.outcome_label}",
            sent_by=user, reason=f"Examination following alert {alert.reference}",
        )  # fmt: skip
        if user is not None:
            log_disclosure(
                user=user, partner=partner, object_type="target", object_id=target.pk,
                purpose=Purpose.PARTNER_REQUEST, purpose_text=f"Outcome of partner alert {alert.reference}",
                data_owner_agency_id=target.subject.owner_agency_id,
                summary=f"Sighting {seen.id} of {alert.stix_id}: {result.outcome_label}, {result.method_label}; "
                "no notes, no names.",
            )  # fmt: skip
        transaction.on_commit(lambda: _queue_push(partner.pk))
    return row
