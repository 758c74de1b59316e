# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""One ledger row per rule version, watchlist and model, with their names and flags."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Max, Q

from apps.reports.effectiveness.book import LedgerRow, Stratum
from apps.reports.effectiveness.counting import _cited, _counts
from apps.reports.effectiveness.statistics import REVIEW_DAYS, RULE_REF, SILENT_DAYS, precision_falling
from apps.reports.models import RuleReview
from apps.reports.slicing import Slice, optional_model


def _scrub(reason: str, *names: str) -> str:
    """The reason as written, with the subject's title and identifier blanked: the ledger and its exports
    carry figures and staff's words, never who or what the subject was."""
    text = (reason or "").strip()
    for name in names:
        if name and len(name) >= 3:
            text = re.sub(re.escape(name), "[subject]", text, flags=re.IGNORECASE)
    return text or "No reason recorded"


def _labels(strata: set[Stratum]) -> dict[Stratum, str]:
    """Stratum names for people: "Consignment · Felixstowe · Narcotics"."""
    from apps.intake.models import SubjectKind
    from apps.targeting.models import RiskArea

    port_model = optional_model("agencies", "Port")
    ports = {}
    if port_model is not None:
        ids = {k[1] for k in strata if k[1]}
        ports = dict(port_model.objects.filter(pk__in=ids).values_list("pk", "name"))
    kinds, areas = dict(SubjectKind.choices), dict(RiskArea.choices)
    return {
        k: " · ".join(
            (
                str(kinds.get(k[0], k[0] or "–")),
                str(ports.get(k[1], "No port")),
                str(areas.get(k[2], k[2] or "–")),
            )
        )
        for k in strata
    }


def _rule_rows(user: Any, s: Slice, counts: dict[tuple[str, str], tuple[int, int]]) -> list[LedgerRow]:
    version_model, hit_model = optional_model("risk", "RuleVersion"), optional_model("risk", "Hit")
    if version_model is None or hit_model is None:
        return []
    versions = version_model.objects.visible_to(user).select_related("rule", "rule__owner_agency")
    if s.rule_id:
        versions = versions.filter(rule_id=s.rule_id)
    hits = (
        hit_model.objects.visible_to(user)
        .filter(created_at__gte=s.since, created_at__lt=s.until, rule_version__in=versions.values("pk"))
        .order_by()
        .values("rule_version_id", "shadow")
        .annotate(n=Count("pk"))
    )
    hit_counts = {(h["rule_version_id"], h["shadow"]): h["n"] for h in hits}
    wanted: set[tuple[int, int]] = set()
    for kind, ref in counts:
        match = RULE_REF.match(ref)
        if kind in {"rule", "rule_shadow"} and match:
            wanted.add((int(match[1]), int(match[2])))
    hit_version_ids = {v for v, _ in hit_counts}
    rows = []
    for version in versions.filter(Q(pk__in=hit_version_ids) | Q(rule__live_version_id=F("pk"))):
        wanted.discard((version.rule_id, version.number))
        rows += _rule_version_rows(version, counts, hit_counts)
    if wanted:
        by_key = Q()
        for rule_id, number in wanted:
            by_key |= Q(rule_id=rule_id, number=number)
        for version in versions.filter(by_key):
            rows += _rule_version_rows(version, counts, hit_counts)
    return sorted(rows, key=lambda r: (r.name.lower(), r.version, r.kind))


def _rule_version_rows(version: Any, counts: dict, hit_counts: dict) -> list[LedgerRow]:
    ref = f"rule:{version.rule_id}@v{version.number}"
    rows = []
    for kind, shadow in (("rule", False), ("rule_shadow", True)):
        n, f = counts.get((kind, ref), (0, 0))
        hits = hit_counts.get((version.pk, shadow), 0)
        if shadow and not (n or hits):
            continue
        rows.append(
            LedgerRow(
                kind=kind,
                key=ref,
                name=version.rule.name,
                version=f"v{version.number}",
                owner=version.rule.owner_agency.code,
                state=version.rule.get_state_display() if not shadow else "Shadow",
                hits=hits,
                examinations=n,
                findings=f,
                rule_id=version.rule_id,
            )
        )
    return rows


def _watchlist_rows(user: Any, s: Slice, counts: dict[tuple[str, str], tuple[int, int]]) -> list[LedgerRow]:
    entry_model = optional_model("watchlists", "WatchlistEntry")
    watchlist_model = optional_model("watchlists", "Watchlist")
    if entry_model is None or watchlist_model is None or s.rule_id:
        return []
    cited = _cited(user, s)
    entry_ids: dict[int, tuple[int, int, int]] = {}
    for (kind, ref), (n, f) in counts.items():
        if kind == "watchlist" and ref.startswith("watchlist-entry:") and ref[16:].isdigit():
            entry_ids[int(ref[16:])] = (n, f, 0)
    for (kind, ref), hits in cited.items():
        if kind == "watchlist" and ref.startswith("watchlist-entry:") and ref[16:].isdigit():
            n, f, _ = entry_ids.get(int(ref[16:]), (0, 0, 0))
            entry_ids[int(ref[16:])] = (n, f, hits)
    list_of = dict(
        entry_model.objects.visible_to(user).filter(pk__in=entry_ids).values_list("pk", "watchlist_id")
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry_id, (n, f, hits) in entry_ids.items():
        if entry_id in list_of:
            t = totals[list_of[entry_id]]
            t[0], t[1], t[2] = t[0] + n, t[1] + f, t[2] + hits
    lists = watchlist_model.objects.visible_to(user).filter(pk__in=totals).select_related("owner_agency")
    return [
        LedgerRow(
            kind="watchlist",
            key=f"watchlist:{w.pk}",
            name=w.name,
            version=f"list v{w.version}",
            owner=w.owner_agency.code,
            state="",
            hits=totals[w.pk][2],
            examinations=totals[w.pk][0],
            findings=totals[w.pk][1],
            refs=[f"watchlist-entry:{e}" for e, wid in list_of.items() if wid == w.pk],
        )
        for w in sorted(lists, key=lambda w: w.name.lower())
    ]


def _model_rows(user: Any, s: Slice, counts: dict[tuple[str, str], tuple[int, int]]) -> list[LedgerRow]:
    model = optional_model("learning", "ModelVersion")
    if model is None or s.rule_id:
        return []
    cited = _cited(user, s)
    ids: set[int] = set()
    for kind, ref in list(counts) + list(cited):
        if kind == "model" and ref.startswith("model:") and ref[6:].isdigit():
            ids.add(int(ref[6:]))
    versions = (
        model.objects.visible_to(user)
        .filter(Q(pk__in=ids) | Q(status="active"))
        .select_related("owner_agency")
    )
    rows = []
    for v in versions:
        ref = f"model:{v.pk}"
        n, f = counts.get(("model", ref), (0, 0))
        rows.append(
            LedgerRow(
                kind="model",
                key=ref,
                name="Risk model",
                version=f"v{v.number}",
                owner=v.owner_agency.code,
                state=v.get_status_display(),
                hits=cited.get(("model", ref), 0),
                examinations=n,
                findings=f,
            )
        )
    return rows


def _flag_rules(user: Any, s: Slice, rows: list[LedgerRow]) -> None:
    """Silent, falling and review-due flags (see module docstring) on the rule rows."""
    if not rows:
        return
    rule_model = optional_model("risk", "Rule")
    if rule_model is None:  # rule rows come from the risk app: without it there are none
        return
    fb_model = optional_model("frontline", "ExaminationFeedback")
    rule_ids = {r.rule_id for r in rows}
    rules = {r.pk: r for r in rule_model.objects.filter(pk__in=rule_ids).select_related("live_version")}
    before = _counts(user, s.previous())
    silent_since = s.until - timedelta(days=SILENT_DAYS)
    last_finding: dict[int, Any] = {}
    if fb_model is not None:
        found = (
            fb_model.objects.visible_to(user)
            .filter(kind="rule", finding=True, examined_at__lt=s.until)
            .order_by()
            .values("ref")
            .annotate(last=Max("examined_at"))
        )
        for row in found:
            match = RULE_REF.match(row["ref"])
            if match:
                rid = int(match[1])
                last_finding[rid] = max(last_finding.get(rid, row["last"]), row["last"])
    reviewed = dict(
        RuleReview.objects.visible_to(user)
        .filter(rule_id__in=rule_ids)
        .order_by()
        .values("rule_id")
        .annotate(last=Max("reviewed_on"))
        .values_list("rule_id", "last")
    )
    for row in rows:
        rule = rules.get(row.rule_id)
        if rule is None:
            continue
        live = rule.state == "active"
        if live and rule.live_version_id and row.version == f"v{rule.live_version.number}":
            last = last_finding.get(rule.pk)
            if (last is None and rule.created_at <= silent_since) or (
                last is not None and last < silent_since
            ):
                row.flags.append(f"No finding in {SILENT_DAYS} days")
        n_before, f_before = before.get(("rule", row.key), (0, 0))
        if precision_falling(row.findings, row.examinations, f_before, n_before):
            row.flags.append("Precision falling")
        last_review = reviewed.get(rule.pk)
        if rule.state in {"active", "shadow"} and (
            last_review is None or last_review < s.end - timedelta(days=REVIEW_DAYS)
        ):
            row.flags.append("Annual review due")
