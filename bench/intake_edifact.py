"""Benchmark: our EDIFACT parsers (PAXLST, PNRGOV) against pydifact on the same real messages.

Run from the project root: ``python -m bench.intake_edifact``. Prints one JSON object.

Ours is measured end to end (tokenising, envelopes, records); pydifact only tokenises
(``Interchange.from_str`` and materialising its segments), so the comparison favours pydifact. The
corpus is every real sample message that pydifact can read; a round parses all of them once. Rounds
of the two parsers alternate until each side has run for at least ``--seconds`` (default 3), and rates
are computed from the median round time, so a busy machine (other jobs, a GC pause) slows both sides
alike instead of skewing the ratio. As in ``timeit``, garbage collection is done between rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from apps.intake.parsers.edifact import read_interchanges
from apps.intake.parsers.paxlst import parse_paxlst
from apps.intake.parsers.pnrgov import parse_pnrgov

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "passenger-messages"
GOAL = 5.0


def _corpus() -> list[tuple[str, str, Callable]]:
    from pydifact.segmentcollection import Interchange

    corpus = []
    for folder, parser in (("paxlst", parse_paxlst), ("pnrgov", parse_pnrgov)):
        for path in sorted((DATA / folder).glob("*")):
            if path.suffix not in (".txt", ".edi"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            try:
                list(Interchange.from_str(text).segments)
            except Exception:  # noqa: S112 - only messages both parsers read are compared
                continue
            if parser(text, file=path.name).messages:
                corpus.append((path.name, text, parser))
    return corpus


def _time(work: Callable[[], None]) -> float:
    """One timed round; like ``timeit``, the cyclic GC runs between rounds, not inside them, so that
    one side does not pay for collecting the other's garbage."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started
    finally:
        gc.enable()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--seconds", type=float, default=3.0)
    seconds = options.parse_args().seconds
    warnings.simplefilter("ignore")
    from pydifact.segmentcollection import Interchange

    corpus = _corpus()
    messages = segments = 0
    for name, text, _ in corpus:
        interchanges, _problems = read_interchanges(text, file=name)
        for interchange in interchanges:
            messages += len(interchange.messages)
            segments += sum(len(m.body) + 2 for m in interchange.messages) + 2

    def ours() -> None:
        for name, text, parser in corpus:
            parser(text, file=name)

    def theirs() -> None:
        for _name, text, _ in corpus:
            list(Interchange.from_str(text).segments)

    our_times: list[float] = []
    their_times: list[float] = []
    # Interleave: after each pydifact round, run ours for about as long, so both run ~``seconds``.
    our_times.append(_time(ours))
    their_times.append(_time(theirs))
    repeat = max(1, round(their_times[0] / our_times[0]))
    while sum(our_times) < seconds or sum(their_times) < seconds:
        our_times.extend(_time(ours) for _ in range(repeat))
        their_times.append(_time(theirs))
    ours_round, theirs_round = statistics.median(our_times), statistics.median(their_times)

    def side(times: list[float], per_round: float) -> dict[str, float]:
        return {
            "rounds": len(times),
            "seconds": round(sum(times), 3),
            "median_round_ms": round(per_round * 1000, 2),
            "messages_per_s": round(messages / per_round, 1),
            "segments_per_s": round(segments / per_round),
        }

    print(
        json.dumps(
            {
                "corpus_files": [name for name, _, _ in corpus],
                "messages_per_round": messages,
                "segments_per_round": segments,
                "ours": side(our_times, ours_round),
                "pydifact": side(their_times, theirs_round),
                "ratio": round(theirs_round / ours_round, 2),
                "goal": f">= {GOAL:g}x",
                "goal_met": theirs_round / ours_round >= GOAL,
            }
        )
    )


if __name__ == "__main__":
    main()
