"""The flow, linked both ways: what a target came from and what came of a hit, an assessment or a rule.

Every link here is offered only when the viewer may open what it points to: the object is in his
``visible_to`` and his role may use the page (the same operation the page checks). What a target came
from is read from what ``disclose`` let him read of its reasons, so a withheld watchlist reason never
becomes a link to its entry, and a frontline officer (who reads the briefing only) gets no links to
rules, watchlist entries, assessments or models at all.

A person nominating from an assessment carries the assessment's components he may see (rules,
watchlist entries, model) as the target's reasons, so that the target explains itself and the
examination's outcome is fed back to them, and his own words as a "person" reason whose ``ref`` names
the assessment (``assessment:<pk>``): the link back from the target, and forward from the assessment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse

from apps.agencies.operations import can
from apps.targeting.models import FINAL_STATES, Target

__all__ = [
    "ASSESSMENT_REF",
    "EntryOutcomes",
    "FlowLink",
    "TargetLinks",
    "assessment_reasons",
    "came_of",
    "entry_outcomes",
    "links_for_target",
    "nominate_action",
    "open_targets_by_subject",
    "subject_targets",
    "targets_of_assessments",
    "targets_of_rule",
]

ASSESSMENT_REF = "assessment:{pk}"
_RULE_REF = re.compile(r"^rule:(\d+)@v(\d+)$")
_ENTRY_REF = re.compile(r"^watchlist-entry:(\d+)$")
_MODEL_REF = re.compile(r"^model:(\d+)$")
_ASSESSMENT_REF = re.compile(r"^assessment:(\d+)$")
#: Reason kinds carried from an assessment to a target nominated from it.
CARRIED_KINDS = frozenset({"rule", "watchlist", "model"})


@dataclass(frozen=True)
class FlowLink:
    """A link to show: where it goes and what it says."""

    url: str
    label: str
    note: str = ""


@dataclass
class TargetLinks:
    """What the target page links to, each only if the viewer may open it."""

    subject: FlowLink | None = None
    assessments: list[FlowLink] = field(default_factory=list)
    rule_versions: list[FlowLink] = field(default_factory=list)
    watchlist_entries: list[FlowLink] = field(default_factory=list)
    model_versions: list[FlowLink] = field(default_factory=list)
    instructions: dict[int, str] = field(default_factory=dict)  # instruction pk → its page

    @property
    def any(self) -> bool:
        return bool(
            self.subject
            or self.assessments
            or self.rule_versions
            or self.watchlist_entries
            or self.model_versions
        )


def _refs(reasons: Iterable[dict[str, Any]], pattern: re.Pattern[str]) -> list[tuple[int, ...]]:
    found: list[tuple[int, ...]] = []
    for reason in reasons:
        match = pattern.match(str(reason.get("ref") or ""))
        if match:
            found.append(tuple(int(g) for g in match.groups()))
    return list(dict.fromkeys(found))


def links_for_target(
    viewer: Any, target: Target, seen: Any, *, instructions: Iterable[Any] | None = None
) -> TargetLinks:
    """The target's links for ``viewer``; ``seen`` is ``disclose(viewer, target)``; ``instructions``: the
    target's instructions when the caller has read them already."""
    from apps.intake.models import Subject
    from apps.learning.models import ModelVersion
    from apps.risk.models import Assessment, RuleVersion
    from apps.watchlists.models import WatchlistEntry

    links = TargetLinks()
    if can(viewer, "exam.view"):
        # The examination's own page (the tablet's): the target is visible, so are its instructions.
        pks = (
            [i.pk for i in instructions]
            if instructions is not None
            else target.instructions.values_list("pk", flat=True)
        )
        links.instructions = {pk: reverse("frontline:instruction", args=[pk]) for pk in pks}
    if seen.briefing_only:
        return links
    # ``panel_subject_visible``: the same question, asked by the query that loaded the target for its page.
    subject_visible = target.__dict__.get("panel_subject_visible")
    if can(viewer, "subject.view") and (
        subject_visible
        if subject_visible is not None
        else Subject.objects.visible_to(viewer).filter(pk=target.subject_id).exists()
    ):
        links.subject = FlowLink(reverse("intake:subject", args=[target.subject_id]), seen.subject.title)
    reasons = seen.reasons  # only what the viewer may read of them: a withheld reason has no ref
    if can(viewer, "rule.view"):
        linked = {pk for (pk,) in _refs(target.reasons or [], _ASSESSMENT_REF)}  # the nominator's link
        found = Assessment.objects.visible_to(viewer).filter(subject_id=target.subject_id)
        for a in found.filter(Q(target_id=target.pk) | Q(pk__in=linked)).order_by("-created_at")[:5]:
            links.assessments.append(
                FlowLink(
                    reverse("risk:assessment", args=[a.pk]),
                    f"Assessment {a.pk}",
                    f"score {a.score:.0f} · {a.get_channel_display()} · {a.created_at:%d %b %H:%M}",
                )
            )
        wanted = _refs(reasons, _RULE_REF)
        if wanted:
            versions = RuleVersion.objects.visible_to(viewer).select_related("rule")
            q = Q(pk__in=[])
            for rule_id, number in wanted:
                q |= Q(rule_id=rule_id, number=number)
            for v in versions.filter(q).order_by("rule__name", "-number"):
                links.rule_versions.append(
                    FlowLink(
                        f"{reverse('risk:rule', args=[v.rule_id])}#v{v.number}", f"{v.rule.name} v{v.number}"
                    )
                )
    entries = [pk for (pk,) in _refs(reasons, _ENTRY_REF)]
    if entries and can(viewer, "watchlist.view"):
        for entry in (
            WatchlistEntry.objects.visible_to(viewer).filter(pk__in=entries).select_related("watchlist")
        ):
            links.watchlist_entries.append(
                FlowLink(reverse("watchlists:entry", args=[entry.pk]), entry.name, entry.watchlist.name)
            )
    models = [pk for (pk,) in _refs(reasons, _MODEL_REF)]
    if models and can(viewer, "model.view"):
        for version in ModelVersion.objects.visible_to(viewer).filter(pk__in=models):
            links.model_versions.append(
                FlowLink(reverse("learning:model", args=[version.pk]), f"Risk model v{version.number}")
            )
    return links


# --------------------------------------------------------------------------- nominate or open


@dataclass(frozen=True)
class NominateAction:
    """What a page offers for a subject: its live target (to open), or a nomination (if allowed)."""

    open_target: Target | None
    nominate_url: str


def open_targets_by_subject(viewer: Any, subject_ids: Iterable[int]) -> dict[int, Target]:
    """The latest live (not final) target the viewer may see on each subject, by subject id."""
    ids = sorted(set(subject_ids))
    if not ids or not can(viewer, "target.view"):
        return {}
    found: dict[int, Target] = {}
    rows = (
        Target.objects.visible_to(viewer)
        .filter(subject_id__in=ids)
        .exclude(state__in=FINAL_STATES)
        .only("pk", "subject_id", "state", "risk_area")
        .order_by("subject_id", "-created_at", "-pk")
    )
    for target in rows:
        found.setdefault(target.subject_id, target)
    return found


def nominate_action(
    viewer: Any, subject_id: int, *, assessment_id: int | None = None, opened: dict[int, Target] | None = None
) -> NominateAction:
    """ "Open target T-…" when the subject has a live target the viewer may see, else "Nominate" for a
    role that may nominate (``nominate_url`` is "" otherwise). The nominate page checks again."""
    if opened is None:
        opened = open_targets_by_subject(viewer, [subject_id])
    target = opened.get(subject_id)
    if target is not None or not can(viewer, "target.nominate"):
        return NominateAction(target, "")
    url = reverse("targeting:nominate", args=[subject_id])
    if assessment_id:
        url += f"?assessment={int(assessment_id)}"
    return NominateAction(None, url)


# --------------------------------------------------------------------------- assessments


def assessment_reasons(viewer: Any, assessment: Any, text: str) -> list[dict[str, Any]]:
    """The reasons of a target nominated by ``viewer`` from ``assessment``: the components he may see
    (watchlist matches on lists his agency may not see are not even hinted at) and his own words."""
    from apps.risk.services import explanation_for

    carried: list[dict[str, Any]] = []
    for c in explanation_for(viewer, assessment).get("components", []):
        if c.get("kind") not in CARRIED_KINDS or not c.get("explanation") or not c.get("score"):
            continue
        reason: dict[str, Any] = {"kind": c["kind"], "text": c["explanation"], "ref": c.get("ref", "")}
        if c["kind"] == "watchlist":  # which list, so that target pages withhold it from others
            reason["list"] = (c.get("details") or {}).get("watchlist_id")
        carried.append(reason)
    words = text.strip() or f"Nominated from assessment {assessment.pk} (score {assessment.score:.0f})."
    carried.append({"kind": "person", "text": words, "ref": ASSESSMENT_REF.format(pk=assessment.pk)})
    return carried


def subject_targets(viewer: Any, subject_ids: Iterable[int]) -> dict[int, list[Target]]:
    """Subject id → the targets on it the viewer may see, newest first."""
    ids = sorted(set(subject_ids))
    if not ids or not can(viewer, "target.view"):
        return {}
    by_subject: dict[int, list[Target]] = {}
    rows = Target.objects.visible_to(viewer).filter(subject_id__in=ids).order_by("-created_at", "-pk")
    for target in rows:
        by_subject.setdefault(target.subject_id, []).append(target)
    return by_subject


def came_of(assessment: Any, targets: Iterable[Target]) -> list[Target]:
    """Of a subject's targets, those that came of ``assessment``: the engine's nomination
    (``Assessment.target_id``) and those a person nominated from it (their ``assessment:<pk>`` reason)."""
    ref = ASSESSMENT_REF.format(pk=assessment.pk)
    return [
        t
        for t in targets
        if t.pk == assessment.target_id or any(r.get("ref") == ref for r in t.reasons or [])
    ]


def targets_of_assessments(viewer: Any, assessments: Iterable[Any]) -> dict[int, list[Target]]:
    """Assessment id → the targets that came of it which the viewer may see (``came_of``)."""
    assessments = list(assessments)
    by_subject = subject_targets(viewer, (a.subject_id for a in assessments))
    return {a.pk: came_of(a, by_subject.get(a.subject_id, [])) for a in assessments}


def targets_of_rule(viewer: Any, rule: Any, *, limit: int = 10) -> list[Target]:
    """The latest targets the engine nominated from assessments in which ``rule`` fired (not in shadow),
    as far as the viewer may see them."""
    from apps.risk.models import Hit

    if not can(viewer, "target.view"):
        return []
    nominated = Hit.objects.filter(rule=rule, shadow=False, assessment__target_id__isnull=False)
    return list(
        Target.objects.visible_to(viewer)
        .filter(pk__in=nominated.values("assessment__target_id"))
        .order_by("-created_at", "-pk")[:limit]
    )


# --------------------------------------------------------------------------- watchlist entries


@dataclass
class EntryOutcomes:
    """What came of a watchlist entry that the viewer may see: targets on the subjects it matched, and
    the assessments in which it matched them."""

    targets: list[Target] = field(default_factory=list)
    assessments: list[Any] = field(default_factory=list)


def entry_outcomes(viewer: Any, entry: Any, *, limit: int = 20) -> EntryOutcomes:
    """The entry's targets and assessments; its hits are read through ``visible_to`` (the subject and
    the list both visible), so a subject the viewer may not see brings nothing of his."""
    from apps.risk.models import Assessment
    from apps.watchlists.models import WatchlistHit

    hits = WatchlistHit.objects.visible_to(viewer).filter(entry=entry)
    found = EntryOutcomes()
    if can(viewer, "target.view"):
        found.targets = list(
            Target.objects.visible_to(viewer)
            .filter(subject_id__in=hits.values("subject_id"))
            .order_by("-created_at", "-pk")[:limit]
        )
    if can(viewer, "rule.view"):
        found.assessments = list(
            Assessment.objects.visible_to(viewer)
            .filter(pk__in=hits.exclude(last_assessment_id=None).values("last_assessment_id"))
            .order_by("-created_at", "-pk")[:limit]
        )
    return found
