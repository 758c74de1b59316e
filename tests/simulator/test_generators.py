"""The generators make messages the real parsers accept, with the facts the demo rules read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.intake.normalise import drafts_for
from apps.intake.services import parse_payload
from apps.simulator import generators as gen
from apps.simulator.engine import TRAFFIC
from apps.simulator.generators.messages import _edi

WHEN = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
PORT_CODES = {"GBLHR": "LHR", "GBMNC": "MAN", "GBFXT": "GBFXT", "GBDVR": "GBDVR", "GBCOV": "GBCOV"}


def drafts(payload: gen.Payload) -> list:
    result = parse_payload(payload.data, name=payload.name, fmt=payload.fmt)
    assert result.format == payload.fmt
    assert not result.problems, result.problems
    assert not [w for m in result.messages for w in m.warnings], payload.name
    assert result.messages
    return [d for m in result.messages for record in m.records for d in drafts_for(record)]


@pytest.mark.parametrize("port", sorted(TRAFFIC))
def test_every_message_round_trips_through_the_real_parsers(port, shared_data):
    replay = gen.replay_rows(shared_data / "declarations" / "df_syn_valid_eng.csv", start=0, count=3)
    for n in range(12):
        plan = gen.plan_arrival(11, port, n, WHEN, replay=replay if port == "GBCOV" else None)
        assert plan.payloads and plan.truths
        keys = set()
        for payload in plan.payloads:
            for draft in drafts(payload):
                assert draft.port_code == PORT_CODES[port]
                assert draft.arrival_at is not None
                keys.add(gen.truth_key_for(draft.kind, draft.facts))
        assert set(plan.truths) <= keys, "every truth belongs to a stored subject"


def test_pnr_travellers_carry_the_courier_indicators():
    seen = {"cash": 0, "short": 0}
    for n in range(60):
        plan = gen.plan_arrival(3, "GBLHR", n, WHEN)
        pnr = next(p for p in plan.payloads if p.fmt == "pnrgov")
        for draft in drafts(pnr):
            f = draft.facts
            if (
                f["paid_cash"]
                and f["booking_to_departure_hours"] < 72
                and f["origin_airport"] in gen.world.SOURCE_AIRPORTS
            ):
                seen["short"] += 1
            seen["cash"] += bool(f["paid_cash"])
    assert seen["short"] > 3 and seen["cash"] > seen["short"]


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    for port in TRAFFIC:
        first = gen.plan_arrival(5, port, 4, WHEN)
        again = gen.plan_arrival(5, port, 4, WHEN)
        other = gen.plan_arrival(6, port, 4, WHEN)
        assert [p.data for p in first.payloads] == [p.data for p in again.payloads]
        assert first.truths == again.truths
        assert [p.data for p in first.payloads] != [p.data for p in other.payloads]


def test_edifact_text_is_escaped():
    assert _edi("O'NEIL+SONS:LTD?") == "O?'NEIL?+SONS?:LTD??"


def test_the_listed_traveller_is_a_real_un_entry_spelt_otherwise(shared_data):
    person, listed_name = gen.listed_person(
        shared_data / "watchlists" / "un_consolidated.xml", 7, WHEN.date()
    )
    assert f"{person.given} {person.surname}" != listed_name
    assert person.truth is not None and person.truth.outcome == "refusal"
    plan = gen.plan_arrival(7, "GBLHR", 3, WHEN, listed=person)
    names = {
        (d.facts["surname"], d.facts["date_of_birth"])
        for p in plan.payloads
        if p.fmt != "json"
        for d in drafts(p)
    }
    assert (person.surname, person.born.isoformat()) in names


def test_a_missing_un_list_gives_no_listed_traveller(tmp_path: Path):
    assert gen.listed_person(tmp_path / "none.xml", 1, WHEN.date()) is None


def test_name_variants_differ_from_the_name():
    rng = gen.rng_for(1, "v")
    for name in ("MOHAMMED", "KHALIL", "YOUSSEF", "BASHAR", "ABDUL RAHMAN"):
        assert gen.name_variant(name, rng) != name
