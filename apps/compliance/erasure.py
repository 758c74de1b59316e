"""Deletion after retention removes every copy, not only the subject row.

A traveller's name, document and booking travel beyond ``Subject``: into the message row it came in,
the assessment's explanation (what was screened against the watchlists), the facts a rule read
(``risk.Hit.matched``), the reasons a target was nominated for, and the problems an intake run
reported. :func:`erase_copies` clears them for the subjects retention erases; subjects deleted outright
take their assessments and hits with them (cascade), so what is left to scrub hangs off the subjects a
target still points at (kept, scrubbed, because the workflow's record is kept for ever).

The models of the apps above this one are reached through ``django.apps`` (no import of them: the
layers point one way), and an app that is not installed is skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps

from apps.compliance.masking import PERSONAL_REASON_KINDS

ERASED = "erased after retention"


#: What an explanation component keeps once its subject is erased: the figures reports and the
#: visibility filter need, never what was screened or matched.
COMPONENT_KEEPS = frozenset({"kind", "ref", "score", "risk_area", "label", "shadow", "rule_version_id"})
DETAIL_KEEPS = frozenset({"watchlist_id", "owner_agency_id", "rule_id", "restricted_to_list_viewers"})


def _model(label: str) -> Any:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def scrub_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """An assessment's explanation without anything about the person: components keep their figures."""

    def component(c: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in c.items() if k in COMPONENT_KEEPS}
        kept["explanation"] = ERASED
        kept["details"] = {k: v for k, v in (c.get("details") or {}).items() if k in DETAIL_KEEPS}
        return kept

    out = {k: v for k, v in (explanation or {}).items() if k not in {"components", "shadow"}}
    for key in ("components", "shadow"):
        if key in (explanation or {}):
            out[key] = [component(c) for c in explanation[key]]
    out["erased"] = True
    return out


def scrub_reasons(reasons: list[Any]) -> list[Any]:
    return [
        {**r, "text": ERASED} if isinstance(r, dict) and r.get("kind") in PERSONAL_REASON_KINDS else r
        for r in reasons or []
    ]


def erase_copies(*, subject_ids: list[int], kept_ids: set[int]) -> None:
    """Scrub the copies of the erased subjects' data; ``kept_ids`` are those scrubbed in place."""
    link_record = _model("entities.LinkRecord")  # the names entity resolution links a record on
    if link_record is not None and kept_ids:
        link_record.objects.filter(subject_id__in=kept_ids).delete()
    assessment = _model("risk.Assessment")
    if assessment is not None and kept_ids:
        rows = assessment.objects.filter(subject_id__in=kept_ids).values_list("pk", "explanation")
        for pk, explanation in rows:
            if not (explanation or {}).get("erased"):  # a kept subject comes back every run
                assessment.objects.filter(pk=pk).update(explanation=scrub_explanation(explanation))
        _model("risk.Hit").objects.filter(assessment__subject_id__in=kept_ids).update(matched={})
    target = _model("targeting.Target")
    if target is not None and kept_ids:
        for pk, reasons in target.objects.filter(subject_id__in=kept_ids).values_list("pk", "reasons"):
            scrubbed = scrub_reasons(reasons)
            if scrubbed != reasons:
                target.objects.filter(pk=pk).update(reasons=scrubbed)
    hit_ruling = _model("watchlists.HitRuling")
    if hit_ruling is not None and kept_ids and any(f.name == "reason" for f in hit_ruling._meta.fields):
        hit_ruling.objects.filter(hit__subject_id__in=kept_ids).update(reason=ERASED)


def purge_messages(*, source: Any, subject_ids: list[int], before: datetime) -> int:
    """Delete the raw message rows of erased subjects and every message of ``source`` past retention;
    the problems reported by intake runs that old go too (they quote the lines they rejected)."""
    from django.db.models import Q

    message = _model("intake.Message")
    subject = _model("intake.Subject")
    of_erased = list(
        subject.objects.filter(pk__in=subject_ids, message__isnull=False).values_list("message_id", flat=True)
    )
    doomed = message.objects.filter(Q(source=source, received_at__lte=before) | Q(pk__in=of_erased))
    # The subjects kept (scrubbed) no longer point at a message that is gone.
    subject.objects.filter(message__in=doomed).update(message=None)
    count, _ = doomed.delete()
    _model("intake.IntakeRun").objects.filter(source=source, created_at__lte=before).exclude(
        problems=[]
    ).update(problems=[])
    return count
