"""Screening benchmark: throughput, 1M-alias latency, and pair-level precision/recall/F1 vs nomenklatura.

Run from the repository root: ``python -m bench.screening`` (prints one JSON object).

* ``names_per_second``: every primary name of UN + OFAC screened against an index of all their
  aliases (including the query's own entry, as in production re-screening).
* ``p50_ms``/``p95_ms``: one name against an index inflated to one million aliases. The synthetic
  aliases are made (seeded) by recombining given names and surnames of real listed persons and
  perturbing them (typos, transliteration variants, dropped or swapped parts), so token frequencies
  look like a real list's. Single process, one core.
* ``ours``/``nomenklatura``: precision, recall and F1 on the labelled pairs, ours at the threshold
  fixed in code (``DEFAULT_THRESHOLD``) and, separately, with the threshold chosen by 5-fold
  cross-validation (threshold picked on four folds, scored on the fifth). nomenklatura's
  ``logic-v2`` is run on the same pairs in the same process at its default 0.7 cut-off.
"""

from __future__ import annotations

import csv
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from apps.watchlists.importers import WatchlistEntry, load_ofac_sdn, load_un_consolidated
from apps.watchlists.matching import DEFAULT_THRESHOLD, ScreeningIndex, name_similarity

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "watchlists"
PAIRS = DATA / "name_pairs_nomenklatura.csv"
KINDS = {"Person": "person", "Vessel": "vessel"}


def _prf(scores: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, g in scores if s >= threshold and g)
    fp = sum(1 for s, g in scores if s >= threshold and not g)
    fn = sum(1 for s, g in scores if s < threshold and g)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "threshold": threshold}


def _best_threshold(scores: list[tuple[float, bool]]) -> float:
    grid = [x / 100 for x in range(50, 96)]
    return max(grid, key=lambda t: (_prf(scores, t)["f1"], -abs(t - DEFAULT_THRESHOLD)))


def _cross_validated(scores: list[tuple[float, bool]], folds: int = 5, seed: int = 7) -> dict[str, object]:
    order = list(range(len(scores)))
    random.Random(seed).shuffle(order)
    predictions: list[tuple[float, bool]] = []
    chosen = []
    for k in range(folds):
        test = set(order[k::folds])
        train = [scores[i] for i in order if i not in test]
        t = _best_threshold(train)
        chosen.append(t)
        predictions += [(1.0 if scores[i][0] >= t else 0.0, scores[i][1]) for i in test]
    result = _prf(predictions, 0.5)
    result.pop("threshold")
    return {**result, "fold_thresholds": chosen}


def pair_scores() -> tuple[list[dict[str, str]], list[tuple[float, bool]]]:
    with PAIRS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ours = [
        (
            name_similarity(r["name1"], r["name2"], KINDS.get(r["schema"], "organisation")),
            r["is_match"] == "true",
        )
        for r in rows
    ]
    return rows, ours


def nomenklatura_scores(rows: list[dict[str, str]]) -> list[tuple[float, bool]] | str:
    try:
        from followthemoney.entity import ValueEntity
        from nomenklatura.matching import get_algorithm
        from nomenklatura.matching.types import ScoringConfig
    except ImportError as exc:
        return f"nomenklatura not importable: {exc}"
    algo = get_algorithm("logic-v2")
    if algo is None:
        return "nomenklatura has no logic-v2 algorithm"
    config = ScoringConfig.defaults()
    out = []
    for i, r in enumerate(rows):
        # Unique ids per pair: nomenklatura caches comparisons by entity id.
        a = ValueEntity.from_dict(
            {"id": f"q{i}", "schema": r["schema"], "properties": {"name": [r["name1"]]}}
        )
        b = ValueEntity.from_dict(
            {"id": f"r{i}", "schema": r["schema"], "properties": {"name": [r["name2"]]}}
        )
        out.append((algo.compare(a, b, config).score, r["is_match"] == "true"))
    return out


def synthetic_aliases(entries: list[WatchlistEntry], target: int, seed: int = 42) -> list[WatchlistEntry]:
    """Inflate the real lists to ``target`` aliases with realistic recombinations and perturbations."""
    rng = random.Random(seed)
    firsts: list[str] = []
    lasts: list[str] = []
    mids: list[str] = []
    org_words: list[str] = []
    for e in entries:
        for n in e.all_names():
            parts = n.replace(",", " ").split()
            if e.kind == "person" and len(parts) >= 2:
                firsts.append(parts[0])
                lasts.append(parts[-1])
                mids.extend(parts[1:-1])
            elif e.kind != "person":
                org_words.extend(parts)
    mids = mids or firsts

    def typo(word: str) -> str:
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        op = rng.random()
        if op < 0.33:
            return word[:i] + word[i + 1 :]
        if op < 0.66:
            return word[:i] + rng.choice("aeioubdklmnrst") + word[i + 1 :]
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    variants = [("MOHAMMED", "MUHAMMAD"), ("OV", "OFF"), ("KH", "H"), ("J", "Y"), ("OU", "U"), ("EI", "AY")]
    out: list[WatchlistEntry] = []
    total = 0
    n = 0
    while total < target:
        n += 1
        aliases_here = []
        for _ in range(rng.choice((1, 2, 3, 4))):
            if rng.random() < 0.8:
                parts = [rng.choice(firsts)] + [rng.choice(mids) for _ in range(rng.choice((0, 0, 1, 2)))]
                parts.append(rng.choice(lasts))
            else:
                parts = [rng.choice(org_words) for _ in range(rng.choice((2, 3, 4)))]
            parts = [typo(p) if rng.random() < 0.15 else p for p in parts]
            name = " ".join(parts)
            if rng.random() < 0.2:
                a, b = rng.choice(variants)
                name = name.replace(a, b)
            aliases_here.append(name)
        from apps.watchlists.importers import Alias

        out.append(
            WatchlistEntry(
                source="SYNTH",
                external_id=f"SYNTH-{n}",
                kind="person",
                name=aliases_here[0],
                aliases=[Alias(a) for a in aliases_here[1:]],
            )
        )
        total += len(aliases_here)
    return out


def through_product(entries: list[WatchlistEntry], travellers: int = 20_000, assessed: int = 3_000) -> dict:
    """Screening through the product (database, cache, provider, risk engine) on stored travellers.

    Traveller names recombine given names and surnames of listed persons (a hard case: every name
    shares tokens with the lists), 1% are listed persons with their listed date of birth.
    """
    import tempfile

    tmp = tempfile.mkdtemp(prefix="ratc-bench-")
    for var in ("DATABASE_URL", "REDIS_URL"):  # never touch a real database or broker
        os.environ.pop(var, None)
    os.environ["SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from apps.agencies.models import Agency, AgencyKind
    from apps.intake.models import DataSource, SourceKind, Subject
    from apps.watchlists import screening
    from apps.watchlists.services import create_watchlist, import_path

    out: dict[str, object] = {"travellers": travellers, "database": "sqlite (throwaway)"}
    call_command("migrate", verbosity=0)
    agency = Agency.objects.create(code="CUS", name="Customs", kind=AgencyKind.CUSTOMS)
    t0 = time.perf_counter()
    for name, fmt, path in (("UN", "un", DATA / "un_consolidated.xml"), ("OFAC", "ofac", DATA / "ofac_sdn")):
        wl = create_watchlist(actor=None, owner_agency=agency, name=name)
        import_path(actor=None, watchlist=wl, fmt=fmt, path=path)
    out["import_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    import_again = import_path(actor=None, watchlist=wl, fmt="ofac", path=DATA / "ofac_sdn")
    out["reimport_unchanged_ofac_s"] = round(time.perf_counter() - t0, 2)
    assert import_again.counts["unchanged"] == import_again.counts["read"]

    rng = random.Random(11)
    persons = [e for e in entries if e.kind == "person"]
    firsts = [e.name.replace(",", " ").split()[0] for e in persons if len(e.name.split()) > 1]
    lasts = [e.name.replace(",", " ").split()[-1] for e in persons if len(e.name.split()) > 1]
    source = DataSource.objects.create(
        name="API bench", kind=SourceKind.API, owner_agency=agency, legal_basis="bench"
    )
    now = timezone.now()
    rows = []
    for i in range(travellers):
        if rng.random() < 0.01:
            listed = rng.choice(persons)
            name, dob = listed.name, str(listed.dates_of_birth[0]) if listed.dates_of_birth else ""
        else:
            name, dob = (
                f"{rng.choice(firsts)} {rng.choice(lasts)}",
                f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            )
        facts = {"full_name": name, "date_of_birth": dob, "nationality": rng.choice(["GB", "FR", "RU", "IR", "SY"]),
                 "document_number": f"P{rng.randrange(10**8):08d}"}  # fmt: skip
        rows.append(
            Subject(
                kind="traveller",
                source=source,
                owner_agency=agency,
                external_id=f"T{i}",
                title=name,
                facts=facts,
                received_at=now,
            )
        )
    Subject.objects.bulk_create(rows, batch_size=2000)
    t0 = time.perf_counter()
    bundle = screening.bundle_for(None)
    out["index_build_s"] = round(time.perf_counter() - t0, 2)
    out["indexed_entries"] = bundle.size
    hits = 0
    t0 = time.perf_counter()
    ids = list(Subject.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        batch = list(Subject.objects.filter(pk__in=ids[start : start + 2000]))
        hits += len(screening.provider(batch))
    took = time.perf_counter() - t0
    out["provider_names_per_second"] = round(travellers / took, 1)
    out["travellers_with_a_match"] = hits
    # The same names straight on the matcher, same moment, same core: the product's own overhead.
    sample = [r.facts for r in rows[:2000]]
    t0 = time.perf_counter()
    for f in sample:
        bundle.index.screen(
            f["full_name"],
            date_of_birth=f["date_of_birth"] or None,
            nationality=f["nationality"],
            document=f["document_number"],
            kind="person",
        )
    out["raw_index_names_per_second_same_names"] = round(len(sample) / (time.perf_counter() - t0), 1)
    try:
        from apps.risk.services import assess_subjects

        t0 = time.perf_counter()
        for start in range(0, assessed, 1000):
            assess_subjects(ids[start : start + 1000])
        rate = assessed / (time.perf_counter() - t0)
        out["assess_subjects_per_second"] = round(rate, 1)
        out["one_million_travellers_rules_and_screening"] = {
            "measured": False,
            "extrapolated_hours_one_core": round(1_000_000 / rate / 3600, 2),
            "note": f"extrapolated from assess_subjects on {assessed} stored travellers (rules + watchlist "
            "provider + storing assessments and nominations, SQLite, one core); a real 1M run needs the "
            "PostgreSQL stack and Celery workers in parallel, not run here",
        }
    except Exception as exc:  # the risk engine is another engineer's work in progress
        out["one_million_travellers_rules_and_screening"] = {"measured": False, "error": repr(exc)[:300]}
    return out


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    if not DATA.is_dir():
        sys.exit(f"watchlist data not found at {DATA}")
    result: dict[str, object] = {}
    entries = list(load_un_consolidated(DATA / "un_consolidated.xml")) + list(
        load_ofac_sdn(DATA / "ofac_sdn")
    )
    if "--product-only" in sys.argv:
        print(json.dumps({"through_product": through_product(entries)}))
        return
    t0 = time.perf_counter()
    index = ScreeningIndex.build(entries)
    result["real_index"] = {
        "entries": len(entries),
        "aliases": len(index),
        "build_s": round(time.perf_counter() - t0, 2),
    }
    queries = [e.name for e in entries]
    t0 = time.perf_counter()
    for q in queries:
        index.screen(q)
    result["names_per_second"] = round(len(queries) / (time.perf_counter() - t0), 1)

    rows, ours = pair_scores()
    result["pairs"] = len(rows)
    result["ours"] = {
        "fixed_threshold": _prf(ours, DEFAULT_THRESHOLD),
        "cross_validated_5fold": _cross_validated(ours),
        "note": "rules were developed while looking at these pairs; the CV figure only guards the threshold",
    }
    nk = nomenklatura_scores(rows)
    if isinstance(nk, str):
        result["nomenklatura"] = {"error": nk}
    else:
        result["nomenklatura"] = {"logic_v2_default_threshold": _prf(nk, 0.7), "published_f1": 0.79}

    target = 1_000_000
    synth = synthetic_aliases(entries, target - len(index))
    t0 = time.perf_counter()
    big = ScreeningIndex.build(entries + synth)
    build_s = time.perf_counter() - t0
    rng = random.Random(3)
    sample = rng.sample(queries, 300) + [a.name for e in rng.sample(synth, 200) for a in e.aliases[:1]]
    sample += [f"{rng.choice(queries).split()[0]} Testperson" for _ in range(100)]
    for q in sample[:20]:
        big.screen(q)  # warm caches
    times = []
    for q in sample:
        t0 = time.perf_counter()
        big.screen(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    result["million"] = {
        "aliases": len(big),
        "build_s": round(build_s, 1),
        "queries": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
    }
    f1_ours = result["ours"]["fixed_threshold"]["f1"]  # type: ignore[index]
    measured_nk = result["nomenklatura"].get("logic_v2_default_threshold")  # type: ignore[union-attr]
    result["goals"] = {
        # Not met unless nomenklatura ran here: its published F1 is no same-run comparison.
        "f1_above_nomenklatura": (f1_ours > measured_nk["f1"]) if measured_nk else None,
        "p95_below_25ms_at_1M": result["million"]["p95_ms"] < 25,  # type: ignore[index]
    }
    del big, synth
    result["through_product"] = through_product(entries)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
