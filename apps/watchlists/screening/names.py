"""Screening a name (and exact identifiers) against a bundle, for an actor's visible lists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User

from apps.agencies.operations import check
from apps.watchlists.bulk import Query, screen_one
from apps.watchlists.evidence import MATCH_THRESHOLD
from apps.watchlists.matching.query import Match
from apps.watchlists.models import Watchlist

if TYPE_CHECKING:
    from apps.intake.models import Subject

from apps.watchlists.screening.bundle import Bundle, Hit, StoredEntry, _ident, bundle_for

#: Subject facts screened exactly, by subject kind: (fact, key kind, label of the field).
EXACT_KEYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "traveller": (
        ("document_number", "document", "travel document"),
        ("phone", "phone", "phone number"),
        ("email", "email", "e-mail address"),
        ("payment_card_keys", "payment_card", "payment card"),
    ),
    "consignment": (("container_numbers", "container", "container"), ("vessel_imo", "imo", "vessel IMO")),
    "trader": (
        ("trader_id", "document", "operator id"),
        ("phone", "phone", "phone number"),
        ("email", "email", "e-mail address"),
    ),
    "conveyance": (("vessel_imo", "imo", "vessel IMO"),),
}


_KEY_WORDS = {
    "document": "document number",
    "phone": "phone number",
    "email": "e-mail address",
    "payment_card": "payment card",
    "container": "container number",
    "imo": "IMO number",
}


def _same_country(a: str | None, b: str | None) -> bool:
    """Document countries agree unless both are given in the same code form and differ (ISO alpha-2 and
    alpha-3 are both sent; a mismatch of forms is no evidence)."""
    a, b = (a or "").strip().upper(), (b or "").strip().upper()
    return not a or not b or len(a) != len(b) or a == b


def _exact_hits(bundle: Bundle, subject: Subject) -> list[Hit]:
    """Hits on the subject's exact keys: container, IMO, phone, e-mail, document, payment card."""
    facts = subject.facts or {}
    hits: list[Hit] = []
    for fact, kind, label in EXACT_KEYS.get(subject.kind, ()):
        raw = facts.get(fact)
        values = raw if isinstance(raw, list) else [raw] if raw else []
        for value in values:
            # A card comes as the keyed hash intake stored; anything else in its normal form.
            ident = str(value) if kind == "payment_card" else _ident(kind, str(value))
            if not ident:
                continue
            for entry in bundle.identifiers.get((kind, ident), []):
                if kind == "document" and subject.kind == "traveller":
                    country = facts.get("document_country")
                    if not any(
                        _ident("document", d.number) == ident and _same_country(d.country, country)
                        for d in entry.documents
                    ):
                        continue
                # The card is named by its kind only: neither its hash nor a part of it is shown.
                shown = "" if kind == "payment_card" else ident
                text = f"{_KEY_WORDS[kind]} {shown} matches".replace("  ", " ")
                hits.append(
                    _hit(
                        bundle,
                        entry,
                        alias=f"{_KEY_WORDS[kind]} {shown}".strip(),
                        score=1.0,
                        name_score=0.0,
                        reasons=[text],
                        parts=[{"key": kind, "weight": 30.0, "text": text}],
                        subject_field=label,
                        query=shown or "payment card",
                    )
                )
    return hits


def _hit(bundle: Bundle, entry: StoredEntry, **kw: Any) -> Hit:
    info = bundle.lists[entry.watchlist_id]
    return Hit(
        entry_pk=entry.pk,
        external_id=entry.external_id,
        entry_name=entry.name,
        kind=entry.kind,
        watchlist_id=entry.watchlist_id,
        watchlist=info.name,
        owner_agency_id=info.owner_agency_id,
        owner_agency=info.owner_agency_code,
        handling=entry.handling,
        **kw,
    )


def _query(
    name: str,
    *,
    date_of_birth: Any = None,
    nationality: str | None = None,
    document: str | None = None,
    kind: str | None = None,
    kinds: tuple[str, ...] | None = None,
    limit: int = 5,
    threshold: float = MATCH_THRESHOLD,
) -> Query:
    """What to ask the index for one name (more hits when ``kinds`` or list thresholds filter some out).

    Kinds are kept apart: a name given with a date of birth is a person's, screened against persons.
    """
    if kind is None and not kinds and date_of_birth:
        kind = "person"
    return Query(
        name,
        date_of_birth=date_of_birth or None,
        nationality=nationality or None,
        document=document or None,
        kind=kind,
        limit=limit * 3,
        threshold=threshold,
    )


def _hits(
    bundle: Bundle,
    name: str,
    matches: list[Match],
    *,
    kinds: tuple[str, ...] | None = None,
    limit: int = 5,
    field_name: str = "name",
    threshold: float | None = None,
) -> list[Hit]:
    """Matches as hits, each kept only at or above ``threshold`` (None: its own list's threshold)."""
    hits = []
    for m in matches:
        entry: StoredEntry = m.entry  # type: ignore[assignment]
        if kinds and entry.kind not in kinds:
            continue
        needed = bundle.lists[entry.watchlist_id].threshold if threshold is None else threshold
        if m.score < needed:
            continue
        hits.append(
            _hit(
                bundle,
                entry,
                alias=m.alias,
                score=m.score,
                name_score=m.name_score,
                reasons=list(m.reasons),
                subject_field=field_name,
                query=name,
                parts=[p.as_dict() for p in m.parts],
                threshold=needed,
            )
        )
    return hits[:limit]


def _screen(
    bundle: Bundle,
    name: str,
    *,
    kinds: tuple[str, ...] | None = None,
    limit: int = 5,
    field_name: str = "name",
    threshold: float | None = None,
    **kwargs: Any,
) -> list[Hit]:
    """One name through the per-name path (:meth:`ScreeningIndex.screen`); ``threshold`` None: each
    list's own."""
    if not name or not name.strip() or not bundle.size:
        return []
    asked = bundle.lowest_threshold if threshold is None else threshold
    q = _query(name, kinds=kinds, limit=limit, threshold=asked, **kwargs)
    matches = screen_one(bundle.index, q)
    return _hits(bundle, name, matches, kinds=kinds, limit=limit, field_name=field_name, threshold=threshold)


def screen_name(
    name: str,
    *,
    date_of_birth: Any = None,
    nationality: str | None = None,
    document: str | None = None,
    kind: str | None = None,
    list_ids: Iterable[int] | None = None,
    limit: int = 5,
    threshold: float | None = None,
) -> list[Hit]:
    """Best matches of one name against the live entries of ``list_ids`` (all lists when None).

    Each hit has reached its list's calibrated threshold, or ``threshold`` when one is given. No
    visibility check: the engine and commands call this; people go through :func:`screen_name_for`.
    """
    bundle = bundle_for(list_ids)
    return _screen(
        bundle,
        name,
        date_of_birth=date_of_birth,
        nationality=nationality,
        document=document,
        kind=kind,
        limit=limit,
        threshold=threshold,
    )


def visible_list_ids(user: Any) -> list[int]:
    """Ids of the lists ``user``'s agency may see (own and granted)."""
    return list(Watchlist.objects.visible_to(user).order_by("pk").values_list("pk", flat=True))


def screen_name_for(actor: User, name: str, **kwargs: Any) -> list[Hit]:
    """Screen a name for a person: only against the lists that person may see (``watchlist.view``)."""
    check(actor, "watchlist.view")
    kwargs.pop("list_ids", None)
    return screen_name(name, list_ids=visible_list_ids(actor), **kwargs)
