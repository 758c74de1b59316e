"""Watchlist hits ruled by a person: true match, false match or unsure, with a reason, before any action.

A fuzzy name match is a question, not an answer: "is this traveller the listed person?" Only a person who
may see both the subject and the list answers it. So:

- the risk engine records each watchlist match as a :class:`~apps.watchlists.models.WatchlistHit` (one
  row per subject and entry, kept across re-screenings: :func:`record_screening`);
- a person rules it (:func:`rule_hit`): every ruling is kept, the latest counts, and a ruling stands only
  while the entry reads as it did when ruled (its content fingerprint); a changed entry asks again;
- targeting asks :func:`hits_blocking_action` before approving or dispatching a target: every watchlist
  hit behind the target that is not ruled "true match" or "unsure" stops the action, with a sentence
  that says why and names neither the list nor the entry (the approver may not see the list);
- a "false match" is remembered: while the entry is unchanged, the screening provider leaves that entry
  out for that subject (:func:`false_match_pairs`), so re-screening does not raise it again;
- rulings measure each list: of its ruled hits, the share ruled a true match (:func:`precision_by_list`),
  which tells whether the list's threshold (``calibration``) holds in practice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.watchlists.models import HitRuling, MatchRuling, WatchlistEntry, WatchlistHit

if TYPE_CHECKING:  # the annotated row's type exists for the checker only (django-stubs' helper package)
    from django_stubs_ext import WithAnnotations


class Standing(TypedDict):
    """What :func:`with_standing` adds to each hit: the ruling that stands, or None."""

    current: str | None


__all__ = [
    "ALLOWS_ACTION",
    "false_match_pairs",
    "get_hit_for",
    "hits_blocking_action",
    "pending_hits",
    "precision_by_list",
    "record_screening",
    "rule_hit",
    "ruled_hits",
    "with_standing",
]

#: Rulings under which a hit may lead to action ("unsure" is a documented doubt the approver weighs).
ALLOWS_ACTION = frozenset({MatchRuling.TRUE_MATCH, MatchRuling.UNSURE})
MIN_REASON = 10
ENTRY_REF = "watchlist-entry:"


def _get(component: Any, name: str, default: Any = None) -> Any:
    """A field of a risk component, stored (a dict) or fresh (``apps.risk.providers.Component``)."""
    if isinstance(component, dict):
        return component.get(name, default)
    return getattr(component, name, default)


def _latest(field: str) -> Subquery:
    return Subquery(
        HitRuling.objects.filter(hit=OuterRef("pk")).order_by("-ruled_at", "-pk").values(field)[:1]
    )


def with_standing(rows: QuerySet[WatchlistHit]) -> QuerySet[WithAnnotations[WatchlistHit, Standing]]:
    """``rows`` annotated with ``current``: the ruling that stands (the latest, on the entry as it still reads), or None."""
    return rows.annotate(_ruling=_latest("ruling"), _ruled_fp=_latest("entry_fingerprint")).annotate(
        current=Case(When(_ruled_fp=F("entry__fingerprint"), then=F("_ruling")), default=None)
    )


def current_ruling(hit: WatchlistHit) -> HitRuling | None:
    """The ruling that stands for ``hit``: its latest, if the entry still reads as it did then."""
    latest = hit.rulings.order_by("-ruled_at", "-pk").first()
    if latest is None or latest.entry_fingerprint != hit.entry.fingerprint:
        return None
    return latest


# --- what the engine records ------------------------------------------------------------------------------


def record_screening(found: Iterable[tuple[int, int, Iterable[Any]]]) -> int:
    """Record the watchlist matches of assessed subjects: ``(assessment_id, subject_id, components)``.

    Called by the risk engine in its assessment transaction. Shadow and non-watchlist components are
    ignored. A (subject, entry) pair seen before keeps its row (and so its rulings); its score and latest
    assessment are brought up to date. Returns the number of matches recorded.
    """
    latest: dict[tuple[int, int], tuple[int, float, str]] = {}
    for assessment_id, subject_id, components in found:
        for c in components:
            details = _get(c, "details") or {}
            if _get(c, "kind") != "watchlist" or _get(c, "shadow") or not details.get("entry_id"):
                continue
            latest[(subject_id, int(details["entry_id"]))] = (
                assessment_id,
                float(details.get("score") or 0.0),
                str(details.get("field") or "")[:60],
            )
    # A provider's component may name an entry that is gone (or a test's invented one): not a hit.
    entry_ids = {e for _, e in latest}
    known = set(WatchlistEntry.objects.filter(pk__in=entry_ids).values_list("pk", flat=True))
    latest = {pair: value for pair, value in latest.items() if pair[1] in known}
    if not latest:
        return 0
    now = timezone.now()
    subject_ids = {s for s, _ in latest}
    with transaction.atomic():
        existing = {
            (h.subject_id, h.entry_id): h
            for h in WatchlistHit.objects.filter(
                subject_id__in=subject_ids, entry_id__in={e for _, e in latest}
            )
        }
        new, changed = [], []
        for (subject_id, entry_id), (assessment_id, score, field_name) in latest.items():
            hit = existing.get((subject_id, entry_id))
            if hit is None:
                new.append(
                    WatchlistHit(
                        subject_id=subject_id,
                        entry_id=entry_id,
                        score=score,
                        subject_field=field_name,
                        last_assessment_id=assessment_id,
                    )
                )
            else:
                hit.score, hit.subject_field, hit.last_assessment_id, hit.last_seen_at = (
                    score,
                    field_name,
                    assessment_id,
                    now,
                )
                changed.append(hit)
        WatchlistHit.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        WatchlistHit.objects.bulk_update(
            changed, ["score", "subject_field", "last_assessment_id", "last_seen_at"], batch_size=2000
        )
    return len(latest)


def false_match_pairs(subject_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(subject id, entry id) pairs ruled a false match on the entry as it still reads: not to screen."""
    ids = list(subject_ids)
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 5000):
        rows = with_standing(WatchlistHit.objects.filter(subject_id__in=ids[start : start + 5000]))
        pairs.update(rows.filter(current=MatchRuling.FALSE_MATCH).values_list("subject_id", "entry_id"))
    return pairs


def precision_by_list(actor: User, list_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """Per list: its hits the actor may see, by their latest ruling, and the precision they measure.

    ``{list id: {"true_match": n, "false_match": n, "unsure": n, "ruled": n, "precision": p or None}}``;
    precision is true / (true + false) ("unsure" is no verdict). Counted over the hits the actor may see
    (their subject and their list), so a count never tells of subjects hidden from them.
    """
    check(actor, "watchlist.view")
    rows = (
        WatchlistHit.objects.visible_to(actor)
        .annotate(_ruling=_latest("ruling"))
        .filter(_ruling__isnull=False)
    )
    if list_ids is not None:
        rows = rows.filter(entry__watchlist_id__in=list(list_ids))
    out: dict[int, dict[str, Any]] = {}
    for list_id, ruling, n in (
        rows.values("entry__watchlist_id", "_ruling")
        .annotate(n=Count("pk"))
        .values_list("entry__watchlist_id", "_ruling", "n")
    ):
        counts = out.setdefault(list_id, {value: 0 for value in MatchRuling.values})
        counts[ruling] = n
    for counts in out.values():
        verdicts = counts[MatchRuling.TRUE_MATCH] + counts[MatchRuling.FALSE_MATCH]
        counts["ruled"] = verdicts + counts[MatchRuling.UNSURE]
        counts["precision"] = round(counts[MatchRuling.TRUE_MATCH] / verdicts, 4) if verdicts else None
    return out


# --- what people do ---------------------------------------------------------------------------------------


def get_hit_for(actor: User, pk: Any) -> WatchlistHit:
    """A hit the actor may see (its subject and its list), else 404."""
    return get_object_for(
        actor,
        WatchlistHit.objects.select_related("subject", "subject__source", "entry", "entry__watchlist"),
        pk=pk,
    )


def pending_hits(actor: User) -> QuerySet[WatchlistHit]:
    """Hits the actor may see that no ruling stands for (never ruled, or the entry changed since)."""
    check(actor, "hit.rule")
    rows = with_standing(WatchlistHit.objects.visible_to(actor)).filter(current__isnull=True)
    return rows.select_related(
        "subject", "subject__source", "subject__port", "entry", "entry__watchlist"
    ).order_by("-last_seen_at", "-pk")


def ruled_hits(actor: User) -> QuerySet[WatchlistHit]:
    """Hits the actor may see with a standing ruling, latest first (for the "ruled" tab and the API)."""
    check(actor, "hit.rule")
    rows = with_standing(WatchlistHit.objects.visible_to(actor)).filter(current__isnull=False)
    return rows.select_related("subject", "entry", "entry__watchlist").order_by("-last_seen_at", "-pk")


def rule_hit(*, actor: User, hit: WatchlistHit, ruling: str, reason: str) -> HitRuling:
    """Rule a watchlist hit true match, false match or unsure, with a reason; the new ruling counts.

    404 for a hit whose subject or list the actor may not see; 403 for a role that may not rule.
    """
    check(actor, "hit.rule", hit)
    errors = {}
    if ruling not in MatchRuling.values:
        errors["ruling"] = f"Choose one of: {', '.join(MatchRuling.values)}."
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        errors["reason"] = (
            "Say why (at least a sentence): the ruling decides whether the hit may lead to action."
        )
    if errors:
        raise ValidationError(errors)
    membership = membership_of(actor)
    with transaction.atomic():
        entry_fp = (
            WatchlistEntry.objects.filter(pk=hit.entry_id).values_list("fingerprint", flat=True).first()
        )
        return HitRuling.objects.create(
            hit=hit,
            ruling=ruling,
            reason=reason[:2000],
            ruled_by=actor,
            agency_id=membership.agency_id,
            entry_fingerprint=entry_fp or "",
        )


# --- what targeting asks ------------------------------------------------------------------------------------


def _entry_ids_of_reasons(reasons: Any) -> tuple[list[int], list[str]]:
    """Entry ids named by a target's watchlist reasons, and the refs that name no entry."""
    ids, unnamed = [], []
    for reason in reasons if isinstance(reasons, list) else []:
        if not isinstance(reason, dict) or reason.get("kind") != "watchlist":
            continue
        ref = str(reason.get("ref") or "")
        number = ref.removeprefix(ENTRY_REF)
        if ref.startswith(ENTRY_REF) and number.isdigit():
            ids.append(int(number))
        else:
            unnamed.append(ref)
    return ids, unnamed


#: Set on a subject by the query that loaded it with its target for a move (``note_latest_assessment``).
_LATEST_ASSESSMENT = "_ratc_latest_assessment"


def note_latest_assessment(subject: Any, assessment_id: int | None) -> None:
    """The id of ``subject``'s latest assessment (None: it has none), read with it in this request."""
    subject.__dict__[_LATEST_ASSESSMENT] = assessment_id


def _latest_assessment_id(subject: Any) -> int | None:
    if _LATEST_ASSESSMENT in subject.__dict__:
        return subject.__dict__[_LATEST_ASSESSMENT]
    # The risk app's assessments, read through the subject's reverse relation: this app sits beside risk.
    assessments = getattr(subject, "assessments", None)
    if assessments is None:
        return None
    return assessments.order_by("-created_at", "-pk").values_list("pk", flat=True).first()


def _hits_behind(target: Any) -> tuple[list[WithAnnotations[WatchlistHit, Standing]], list[str]]:
    subject = target.subject
    entry_ids, unnamed = _entry_ids_of_reasons(getattr(target, "reasons", None))
    live_entries = (
        set(WatchlistEntry.objects.filter(pk__in=entry_ids).values_list("pk", flat=True))
        if entry_ids
        else set()
    )
    for entry_id in sorted(set(entry_ids) - live_entries):
        unnamed.append(f"{ENTRY_REF}{entry_id}")
    # A reason a person wrote names an entry the engine may never have recorded: record it, to be ruled.
    for entry_id in sorted(live_entries):
        WatchlistHit.objects.get_or_create(subject_id=subject.pk, entry_id=entry_id, defaults={"score": 0.0})
    wanted = Q(subject_id=subject.pk, entry_id__in=live_entries)
    if (assessment_id := _latest_assessment_id(subject)) is not None:
        wanted |= Q(subject_id=subject.pk, last_assessment_id=assessment_id)
    elif not live_entries:
        return [], unnamed  # no entry named and no assessment: no hit can be behind it (no query either)
    rows = with_standing(WatchlistHit.objects.filter(wanted)).order_by("pk")
    return list(rows), unnamed


def hits_behind(target: Any) -> list[WithAnnotations[WatchlistHit, Standing]]:
    """The watchlist hits behind ``target`` (its watchlist reasons and its subject's latest assessment),
    each annotated with its standing ruling (``current``)."""
    return _hits_behind(target)[0]


def _describe(hit: WatchlistHit) -> str:
    what = f"watchlist hit #{hit.pk}"
    if hit.subject_field:
        what += f" on the {hit.subject_field}"
    if hit.score:
        what += f" (strength {hit.score:.2f})"
    return what


def hits_blocking_action(target: Any) -> list[str]:
    """Why the watchlist hits behind ``target`` stop an approval or a dispatch; empty when none does.

    The hits behind a target: those its reasons of kind "watchlist" name, and those of its subject's
    latest assessment. Each one without a standing "true match" or "unsure" ruling gives one sentence;
    a "false match" blocks too, and says so. Sentences name neither the list nor the entry, since the
    person approving may not see the list.
    """
    hits, unnamed = _hits_behind(target)
    sentences = [
        f"A watchlist reason ({ref or 'no reference'}) names no list entry that can be ruled; "
        "replace it with the hit it stands for, or withdraw it."
        for ref in unnamed
    ]
    for hit in hits:
        what = _describe(hit)
        if hit.current == MatchRuling.FALSE_MATCH:
            sentences.append(
                f"The {what} was ruled a false match: it cannot lead to action. Withdraw the reason "
                "or rule the hit again."
            )
        elif hit.current not in ALLOWS_ACTION:
            sentences.append(
                f"The {what} has not been ruled by a person yet: rule it a true match, a false match "
                "or unsure, with a reason, first."
            )
    return sentences
