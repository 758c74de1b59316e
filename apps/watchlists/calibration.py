"""Each list's match threshold, chosen on a stated false-hit rate over a population of ordinary travellers.

A score means more or less depending on the list: a list of ten thousand common Arabic and Spanish names
is matched by chance far more often than a list of a hundred Norwegian ones. So the threshold is the
list's own. :func:`calibrate` screens a reference population against the list alone - ordinary people
of many scripts and nationalities (generated with Faker's locales, seeded, so the same list always gets
the same threshold), each with a date of birth and a nationality as a travel document carries them -
and sets ``Watchlist.match_threshold`` to the lowest score that at most ``Watchlist.false_hit_rate`` of
them reach. It runs after every import (``services.run_import``) and whenever the rate is changed.

Rulings then measure what the threshold gives in practice (``rulings.precision_by_list``).
"""

from __future__ import annotations

import logging
import math
import random
from datetime import date
from typing import Any

from django.utils import timezone

from apps.watchlists.evidence import MATCH_THRESHOLD, REVIEW_THRESHOLD

log = logging.getLogger(__name__)

__all__ = ["REFERENCE_SAMPLE", "calibrate", "reference_travellers", "threshold_for_rate"]

#: Ordinary travellers screened to set a threshold (0.1 % of 5,000 is five: enough to place it).
REFERENCE_SAMPLE = 5000
#: Faker locales of the reference population and the nationality their documents carry.
REFERENCE_LOCALES = {
    "en_US": "US", "en_GB": "GB", "fr_FR": "FR", "de_DE": "DE", "es_ES": "ES", "es_CO": "CO", "it_IT": "IT",
    "pl_PL": "PL", "pt_BR": "BR", "tr_TR": "TR", "nl_NL": "NL", "ro_RO": "RO", "en_IN": "IN", "en_PK": "PK",
    "fr_DZ": "DZ", "az_AZ": "AZ", "uz_UZ": "UZ", "id_ID": "ID", "vi_VN": "VN", "sw": "KE", "ha_NG": "NG",
    "ru_RU": "RU", "uk_UA": "UA", "el_GR": "GR", "ka_GE": "GE", "ar_AA": "EG", "ar_SA": "SA", "fa_IR": "IR",
    "he_IL": "IL", "zh_CN": "CN", "zh_TW": "TW", "ja_JP": "JP", "ko_KR": "KR", "hi_IN": "IN", "th_TH": "TH",
}  # fmt: skip
#: Thresholds are kept inside these bounds, whatever the sample says.
LOWEST, HIGHEST = REVIEW_THRESHOLD, 0.99


def reference_travellers(n: int = REFERENCE_SAMPLE, seed: int = 20240601) -> list[dict[str, str]]:
    """``n`` ordinary travellers: name (as their locale writes it), date of birth and nationality."""
    from faker import Faker

    rng = random.Random(seed)
    locales = list(REFERENCE_LOCALES)
    fakers: dict[str, Any] = {}
    rows = []
    for i in range(n):
        loc = locales[i % len(locales)]
        if loc not in fakers:
            fakers[loc] = Faker(loc)
            fakers[loc].seed_instance(rng.randrange(1 << 30))
        f = fakers[loc]
        name = f.name() if rng.random() < 0.3 else f"{f.first_name()} {f.last_name()}"
        born = date(rng.randint(1935, 2008), rng.randint(1, 12), rng.randint(1, 28))
        rows.append({"name": name, "date_of_birth": born.isoformat(), "nationality": REFERENCE_LOCALES[loc]})
    return rows


def threshold_for_rate(scores: list[float], rate: float) -> float:
    """The lowest threshold that at most ``rate`` of ``scores`` reach (a hit is score >= threshold)."""
    allowed = math.floor(rate * len(scores) + 1e-9)
    ranked = sorted(scores, reverse=True)
    if allowed >= len(ranked):
        return LOWEST
    # Scores are kept to four decimals: the next one up is the lowest score the rate allows.
    return min(HIGHEST, max(LOWEST, round(ranked[allowed] + 0.0001, 4)))


def calibrate(watchlist: Any, *, sample: int = REFERENCE_SAMPLE) -> dict[str, Any]:
    """Set ``watchlist.match_threshold`` for its ``false_hit_rate`` on the reference population.

    A list without persons keeps its threshold (travellers say nothing of organisations or vessels).
    Returns what was recorded in ``watchlist.calibration``.
    """
    from apps.watchlists.bulk import Query, screen_many
    from apps.watchlists.screening import bundle_for

    try:
        people = reference_travellers(sample)
    except ImportError:  # Faker missing: keep the threshold as it is, and say why
        log.warning("watchlist %s not calibrated: Faker is not installed", watchlist.pk)
        return {}
    bundle = bundle_for([watchlist.pk])
    persons = sum(1 for e in bundle.index.entries if e.kind == "person")
    record: dict[str, Any] = {
        "at": timezone.now().isoformat(timespec="seconds"),
        "sample": len(people),
        "locales": len(REFERENCE_LOCALES),
        "rate": watchlist.false_hit_rate,
        "persons": persons,
    }
    if persons:
        queries = [
            Query(p["name"], date_of_birth=p["date_of_birth"], nationality=p["nationality"], kind="person",
                  limit=1, threshold=0.2)
            for p in people
        ]  # fmt: skip
        scores = [hits[0].score if hits else 0.0 for hits in screen_many(bundle.index, queries)]
        threshold = threshold_for_rate(scores, watchlist.false_hit_rate)
        record["measured_rate"] = round(sum(1 for s in scores if s >= threshold) / len(scores), 5)
    else:
        threshold = watchlist.match_threshold or MATCH_THRESHOLD
        record["note"] = "no persons on the list: threshold kept"
    record["threshold"] = round(threshold, 4)
    type(watchlist).objects.filter(pk=watchlist.pk).update(
        match_threshold=round(threshold, 4), calibration=record, updated_at=timezone.now()
    )
    watchlist.match_threshold, watchlist.calibration = round(threshold, 4), record
    return record
