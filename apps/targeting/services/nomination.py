"""Nomination: a subject becomes a target, by a person or the risk engine, with its reasons checked."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.agencies.operations import check, membership_of
from apps.intake.models import Subject
from apps.targeting.disclosure import ENGINE_REASON_KINDS, plain_reason
from apps.targeting.models import (
    OPEN_STATES,
    HandlingCode,
    RiskArea,
    Scope,
    Target,
    TargetShare,
)
from apps.targeting.routing import port_ids_of
from apps.targeting.services.moves import S, _publish, _record

REASON_KINDS = {"rule", "watchlist", "model", "person", "random"}


def _reasons(reasons: Any, fallback_text: str, *, by_engine: bool = False) -> list[dict[str, Any]]:
    """The nomination's reasons, checked, each ``{"kind", "text", "ref"}``.

    A rule or model reason also carries ``plain``: the line for those who may not read what fired (a
    frontline officer, a partner agency; ``disclosure.plain_reason``), as the engine wrote it, else made
    here, so that no renderer ever has to fall back on the condition. A watchlist reason keeps ``list``
    (which list matched), so that disclosure withholds it from agencies that may not see that list.
    """
    cleaned: list[dict[str, Any]] = []
    for i, item in enumerate(reasons or []):
        if isinstance(item, str):
            item = {"kind": "person", "text": item, "ref": ""}
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("kind"), str)
            or item["kind"] not in REASON_KINDS
            or not isinstance(item.get("text", ""), str | int | float)
            or not str(item.get("text", "")).strip()
            or not isinstance(item.get("ref", ""), str | int)
        ):
            raise ValidationError(
                {"reasons": f"Reason {i + 1} needs a kind ({', '.join(sorted(REASON_KINDS))}) and a text."}
            )
        row: dict[str, Any] = {
            "kind": item["kind"],
            "text": str(item["text"]).strip(),
            "ref": str(item.get("ref", "")),
        }
        if row["kind"] in ENGINE_REASON_KINDS:
            row["plain"] = plain_reason({**row, "plain": item.get("plain") or ""}, by_engine=by_engine)
        if row["kind"] == "watchlist" and isinstance(item.get("list"), int):
            row["list"] = item["list"]
        cleaned.append(row)
    if not cleaned and fallback_text.strip():
        cleaned.append({"kind": "person", "text": fallback_text.strip(), "ref": ""})
    if not cleaned:
        raise ValidationError({"reasons": "Say why this subject should be targeted."})
    return cleaned


def _nominator(actor: User | None, subject: Subject, *, by_engine: bool) -> tuple[Any, int]:
    """Who nominates: ``(membership, owner agency id)``; the risk engine (no person) nominates for the
    subject's agency, a person who may nominate and see the subject for his own."""
    if actor is None:
        if not by_engine:
            raise PermissionDenied("Only the risk engine may nominate without a person.")
        return None, subject.owner_agency_id
    check(actor, "target.nominate")
    if not Subject.objects.visible_to(actor).filter(pk=subject.pk).exists():
        from django.http import Http404

        raise Http404("Not found.")
    membership = membership_of(actor)
    return membership, membership.agency_id


def _check_risk_area(risk_area: str) -> None:
    if risk_area not in RiskArea.values:
        # Name the field and the choices: an empty value is a forgotten choice, not an unknown area.
        choices = ", ".join(str(label) for label in RiskArea.labels)
        said = "Choose the risk area" if not risk_area else f"“{risk_area}” is not a risk area; choose one"
        raise ValidationError({"risk_area": f"Risk area: {said} ({choices})."})


def _checked_priority(priority: Any) -> int:
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        raise ValidationError({"priority": "Priority is a whole number between 0 and 100."}) from None
    if not 0 <= priority <= 100:
        raise ValidationError({"priority": "Priority is between 0 and 100."})
    return priority


def nominate_target(**kwargs: Any) -> Target:
    """Nominate (see ``nominate``); returns the target, new or the open one already there."""
    return nominate(**kwargs)[0]


def nominate(
    *,
    actor: User | None,
    subject: Subject,
    risk_area: str,
    reasons: list[dict[str, str]] | list[str],
    priority: int = 50,
    score: float | None = None,
    by_engine: bool = False,
    random_control: bool = False,
    reason: str = "",
    scope: str | None = None,
) -> tuple[Target, bool]:
    """Nominate ``subject`` as a target in ``risk_area``: ``(target, created)``.

    When an open target on the subject and area already exists *and the nominator may see it*, that one
    is returned (``created`` False): nobody works the same subject twice. One of his own agency that he
    may not see (another team's) is refused with a reason: an agency has one open target per subject
    and area (a database constraint). Another agency's open target
    that is not shared with the nominator is never returned (its owner, reasons and claimant are not his
    to read): his agency gets a target of its own, and deconfliction happens through sharing and holds.

    The risk engine calls this server-side with ``actor=None, by_engine=True``; the owner agency is then
    the subject's. A person needs ``target.nominate`` and must see the subject; the owner agency is his.
    ``scope`` (hybrid model) defaults to ``port`` for a nominator who works at ports, else ``national``.
    When a partner agency nominates and a national agency runs the centre, the target is shared with
    it ("may act"), since the national centre routes and decides.
    """
    membership, owner_agency_id = _nominator(actor, subject, by_engine=by_engine)
    _check_risk_area(risk_area)
    priority = _checked_priority(priority)
    cleaned = _reasons(reasons, reason, by_engine=by_engine)
    if scope is None:
        scope = Scope.PORT if membership is not None and port_ids_of(membership) else Scope.NATIONAL
    with transaction.atomic():
        # Lock the subject row so two nominations of the same subject and area cannot both create one.
        Subject.objects.select_for_update().filter(pk=subject.pk).first()
        open_ones = Target.objects.filter(subject=subject, risk_area=risk_area, state__in=OPEN_STATES)
        if actor is None:
            existing = open_ones.filter(owner_agency_id=owner_agency_id).first()
        else:
            existing = open_ones.visible_to(actor).first()
        if existing is not None:
            return existing, False
        if open_ones.filter(owner_agency_id=owner_agency_id).exists():
            # His own agency works it already, in a team he does not see (a port team beside the centre):
            # one agency never works the same subject twice in an area (the database refuses it too).
            # Nothing of that target is his to read; that it exists in his own agency is.
            raise ValidationError(
                {"risk_area": "Your agency already has an open target on this subject in this risk area."}
            )
        target = Target.objects.create(
            subject=subject,
            owner_agency_id=owner_agency_id,
            risk_area=risk_area,
            reasons=cleaned,
            priority=int(priority),
            score=score,
            scope=scope,
            port_id=subject.port_id,
            arrival_at=subject.arrival_at,
            nominated_by=actor,
            by_engine=by_engine,
            random_control=random_control,
        )
        _record(
            target, actor, "", S.NOMINATED, reason or ("Nominated by the risk engine" if by_engine else "")
        )
        from apps.agencies.models import CentreConfiguration

        national = CentreConfiguration.current().national_agency_id
        if national and national != owner_agency_id:
            TargetShare.objects.create(
                target=target, agency_id=national, code=HandlingCode.ACT, shared_by=actor
            )
        _publish(target, "target.created")
    return target, True
