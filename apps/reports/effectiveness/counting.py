"""The examinations counted per source (rule version, list, model) and stratum, within the user's scope."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet

from apps.reports.effectiveness.book import Stratum
from apps.reports.scope import drawn_q, targets
from apps.reports.slicing import Slice, optional_model


def feedback(user: Any, s: Slice) -> QuerySet | None:
    """Feedback rows of examinations ended in the period, of targets in the slice."""
    model = optional_model("frontline", "ExaminationFeedback")
    if model is None:
        return None
    qs = model.objects.visible_to(user).filter(
        examined_at__gte=s.since, examined_at__lt=s.until, target__in=targets(user, s).values("pk")
    )
    # The random baseline counts only the draws the viewer may be told of (see ``scope``); a partner's
    # view of a drawn target holds no selector's row either: it simply is not counted.
    qs = qs.filter(~Q(kind="random") | drawn_q(user, "target__"))
    if s.officer_id:
        qs = qs.filter(Q(examination__recorded_by_id=s.officer_id))
    return qs


Counts = dict[tuple[str, str], tuple[int, int]]


StrataCounts = dict[tuple[str, str], dict[Stratum, tuple[int, int]]]


def _strata_counts(user: Any, s: Slice) -> StrataCounts:
    """Examinations and findings per (feedback kind, reference) and stratum of the examined target."""
    rows = feedback(user, s)
    if rows is None:
        return {}
    grouped = (
        rows.order_by()
        .values("kind", "ref", "target__subject__kind", "target__port_id", "target__risk_area")
        .annotate(n=Count("pk"), f=Count("pk", filter=Q(finding=True)))
    )
    out: StrataCounts = defaultdict(dict)
    for r in grouped:
        stratum = (r["target__subject__kind"], r["target__port_id"], r["target__risk_area"])
        out[(r["kind"], r["ref"])][stratum] = (r["n"], r["f"])
    return dict(out)


def _totals(strata: StrataCounts) -> Counts:
    return {
        key: (sum(n for n, _ in by.values()), sum(f for _, f in by.values())) for key, by in strata.items()
    }


def _counts(user: Any, s: Slice) -> Counts:
    return _totals(_strata_counts(user, s))


def _cited(user: Any, s: Slice) -> dict[tuple[str, str], int]:
    """Targets nominated in the period per (reason kind, reference): the hits of watchlists and models."""
    cited: dict[tuple[str, str], int] = defaultdict(int)
    rows = (
        targets(user, s)
        .filter(created_at__gte=s.since, created_at__lt=s.until)
        .values_list("reasons", flat=True)
    )
    for reasons in rows.iterator(chunk_size=2000):
        for kind, ref in {
            (r.get("kind"), str(r.get("ref") or "")) for r in reasons or [] if isinstance(r, dict)
        }:
            if isinstance(kind, str) and kind in {"watchlist", "model"} and ref:
                cited[(kind, ref)] += 1
    return cited
