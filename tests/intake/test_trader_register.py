"""The trader register: CSV and JSON read as registers are really written, stored as versioned traders,
joined to the declarations of those traders when they are assessed, and re-assessed when it changes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from apps.agencies.roles import Role
from apps.intake.models import DataSource, Message, SourceKind, Subject
from apps.intake.parsers.detect import detect_format
from apps.intake.parsers.traders import parse_traders
from apps.intake.register import fill_register_facts
from apps.intake.services import run_intake, start_run
from apps.risk.models import Assessment, Hit, RiskSettings
from tests.factories import DataSourceFactory, member
from tests.risk.conftest import write_rule

N = 300
HEADER = [
    "EORI", "Trader name", "Street", "City", "Postcode", "Country", "Phone", "E-mail", "AEO status",
    "AEO type", "AEO valid from", "AEO valid to", "Previous findings", "Penalties", "Revocations",
]  # fmt: skip


def trader_row(i: int, **change: str) -> dict[str, str]:
    """Trader ``i`` of a generated register: every third an AEO (types in turn), every seventh with
    findings, every eleventh with a penalty."""
    aeo = i % 3 == 0
    row = {
        "EORI": f"GB{100000000000 + i}",
        "Trader name": f"Trader {i} Ltd",
        "Street": f"{i} Dock Road",
        "City": "Felixstowe",
        "Postcode": "IP11 3AA",
        "Country": "GB",
        "Phone": f"01394 {600000 + i}",
        "E-mail": f"Desk{i}@Trader{i}.example",
        "AEO status": "active" if aeo else "",
        "AEO type": ("AEOC", "AEOS", "AEOF")[(i // 3) % 3] if aeo else "",
        "AEO valid from": "2020-01-01" if aeo else "",
        "AEO valid to": "2035-12-31" if aeo else "",
        "Previous findings": str(3 if i % 7 == 1 else 0),
        "Penalties": str(1 if i % 11 == 0 else 0),
        "Revocations": "0",
    }
    row.update(change)
    return row


def register_csv(rows: list[dict[str, str]], *, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture(scope="module")
def register_text() -> str:
    return register_csv([trader_row(i) for i in range(N)])


# --- reading the format -----------------------------------------------------------------------------


def test_a_register_reads_the_same_whatever_its_encoding_delimiter_and_header_spelling(register_text):
    plain = parse_traders(register_text.encode(), file="r.csv")
    assert plain.ok and len(plain.messages) == N
    first = plain.messages[0].records[0]
    assert first.operator_id == "GB100000000000" and first.aeo_status == "active" and first.aeo_type == "AEOC"
    assert first.phones == ["+441394600000"] and first.emails == ["desk0@trader0.example"]
    variants = {
        "bom+semicolon": ("\ufeff" + register_csv([trader_row(i) for i in range(N)], delimiter=";")).encode(),
        "utf-16+tab": register_csv([trader_row(i) for i in range(N)], delimiter="\t").encode("utf-16"),
        "cp1252+aliases": register_text.replace("EORI", "operator id", 1)
        .replace("Trader name", "Company Name", 1)
        .replace("AEO valid to", "aeo_valid_until", 1)
        .encode("cp1252"),
    }
    for name, data in variants.items():
        result = parse_traders(data, file=f"{name}.csv")
        assert result.ok, (name, result.problems[:3])
        assert [m.message_key for m in result.messages] == [m.message_key for m in plain.messages], name
    assert detect_format(register_text.encode(), "r.csv") == "traders-csv"


def test_bad_rows_are_refused_naming_line_and_column_and_the_rest_is_read(register_text):
    rows = [trader_row(i) for i in range(5)]
    rows[1]["EORI"] = "G1-234"
    rows[2]["AEO type"] = "AEOX"
    rows[3]["AEO valid to"] = "2019-01-01"
    rows[4]["Phone"] = "12"
    result = parse_traders(register_csv(rows).encode(), file="bad.csv")
    assert [m.records[0].operator_id for m in result.messages] == ["GB100000000000"]
    where = {p.where: p.reason for p in result.problems}
    assert set(where) == {
        "line 3, column 'EORI'",
        "line 4, column 'AEO type'",
        "line 5, column 'AEO valid to'",
        "line 6, column 'Phone'",
    }
    assert "not an operator id" in where["line 3, column 'EORI'"]
    assert "AEOC, AEOS, AEOF" in where["line 4, column 'AEO type'"]


def test_json_register_with_history_and_problems_at_their_path():
    good = {
        "operator_id": "nl 812345678",
        "name": "Haven BV",
        "addresses": [{"street": "Kade 1", "city": "Rotterdam", "country": "NL"}],
        "aeo": {"status": "suspended", "type": "AEOF", "valid_from": "2021-05-01"},
        "compliance": {
            "history": [
                {"kind": "finding", "date": "2024-02-01", "reference": "EX-1"},
                {"kind": "penalty", "date": "2024-03-01", "amount": 5000},
            ]
        },
    }
    bad = {
        "operator_id": "NL1",
        "name": "X",
        "aeo": {"status": "active"},
        "compliance": {"history": [{"kind": "fine"}]},
    }
    result = parse_traders(json.dumps({"traders": [good, bad]}).encode(), file="r.json")
    (message,) = result.messages
    record = message.records[0]
    assert record.operator_id == "NL812345678" and record.aeo_status == "suspended"
    assert (record.findings_count, record.penalties_count) == (1, 1)
    assert [(p.where, p.reason.split(";")[0]) for p in result.problems] == [
        ("$.traders[1].compliance.history[0].kind", "must be one of finding, penalty, revocation")
    ]
    assert detect_format(json.dumps({"traders": [good]}).encode(), "r.json") == "traders-json"


# --- storing, joining, re-importing -----------------------------------------------------------------


@pytest.fixture
def register(world) -> DataSource:
    RiskSettings.objects.create(random_control_share=0.0)
    return DataSourceFactory(
        owner_agency=world.customs, kind=SourceKind.TRADER_REGISTER, name="EORI register"
    )


def load(source: DataSource, name: str, data: bytes, django_capture_on_commit_callbacks):
    run = start_run(actor=None, source=source, files=[name])
    with django_capture_on_commit_callbacks(execute=True):
        return run_intake(run, [(name, data)])


def declaration(ref: str, importer: str) -> dict:
    return {
        "reference": ref,
        "declared_at": timezone.now().isoformat(),
        "parties": [{"role": "importer", "id": importer, "name": "Importer"}],
        "goods": [{"hs_code": "8510900000", "value": 100, "net_mass_kg": 10}],
    }


def test_register_rules_fire_on_the_traders_declarations_and_follow_a_re_import(
    world, register, register_text, risk_manager, django_capture_on_commit_callbacks
):
    declarations = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="CUS decl")
    risky = write_rule(
        risk_manager,
        "importer_aeo = false and importer_previous_findings >= 2",
        state="active",
        name="Non-AEO importer with findings",
        weight=70,
    )
    penalised = write_rule(
        risk_manager, "aeo = true and penalties_count >= 1", state="active", subject_kind="trader",
        name="AEO with penalties", weight=40,
    )  # fmt: skip
    run = load(register, "register.csv", register_text.encode(), django_capture_on_commit_callbacks)
    assert run.status == "done" and run.counts["subjects"] == N
    traders = Subject.objects.filter(source=register, kind="trader", status="current")
    assert traders.count() == N
    # Traders 0 (AEO) and 1 (no AEO, 3 findings) lodge declarations.
    body = json.dumps([declaration("D-AEO", "GB100000000000"), declaration("D-RISK", "GB 100000000001")])
    decl_run = load(declarations, "d.json", body.encode(), django_capture_on_commit_callbacks)
    assert decl_run.status == "done"
    fired = set(Hit.objects.filter(rule=risky).values_list("assessment__subject__external_id", flat=True))
    assert fired == {"declaration:D-RISK"}
    # Register traders 0, 33, 66... are AEOs with a penalty: the trader rule fires on them.
    penalised_traders = set(
        Hit.objects.filter(rule=penalised).values_list("assessment__subject__title", flat=True)
    )
    assert {t.split(" (")[0] for t in penalised_traders} >= {"Trader 0 Ltd", "Trader 33 Ltd", "Trader 66 Ltd"}

    # Trader 0 loses its certificate and has two findings; trader 1 is unchanged.
    rows = [trader_row(i) for i in range(N)]
    rows[0].update({"AEO status": "revoked", "Previous findings": "2", "Revocations": "1"})
    again = load(register, "register.csv", register_csv(rows).encode(), django_capture_on_commit_callbacks)
    assert again.counts["subjects"] == 1 and again.counts["duplicates"] == N - 1
    versions = Subject.objects.filter(source=register, external_id="trader:GB100000000000").order_by(
        "version"
    )
    assert [(s.version, s.status, s.facts["aeo_status"]) for s in versions] == [
        (1, "superseded", "active"),
        (2, "current", "revoked"),
    ]
    assert Message.objects.filter(source=register, business_key="trader:GB100000000000").count() == 2
    # The declaration of trader 0 was assessed again, and now the rule fires on it.
    d_aeo = Subject.objects.get(external_id="declaration:D-AEO")
    assert Assessment.objects.filter(subject=d_aeo).count() == 2
    fired = set(Hit.objects.filter(rule=risky).values_list("assessment__subject__external_id", flat=True))
    assert fired == {"declaration:D-RISK", "declaration:D-AEO"}


def test_bad_rows_keep_what_is_stored_and_good_rows_update(
    register, register_text, django_capture_on_commit_callbacks
):
    load(register, "register.csv", register_text.encode(), django_capture_on_commit_callbacks)
    messages = Message.objects.filter(source=register).count()
    rows = [trader_row(2, **{"Trader name": "Trader Two Renamed"}), trader_row(3, **{"AEO type": "X"})]
    rows.append(trader_row(4, **{"EORI": "GB-100000000004!"}))
    run = load(register, "fix.csv", register_csv(rows).encode(), django_capture_on_commit_callbacks)
    assert run.status == "rejects"
    assert {p["where"] for p in run.problems} == {"line 3, column 'AEO type'", "line 4, column 'EORI'"}
    assert Message.objects.filter(source=register).count() == messages + 1
    current = {
        s.external_id: s for s in Subject.objects.filter(source=register, status="current", kind="trader")
    }
    assert current["trader:GB100000000002"].facts["trader_name"] == "Trader Two Renamed"
    assert current["trader:GB100000000002"].version == 2
    assert current["trader:GB100000000003"].version == 1
    assert current["trader:GB100000000003"].facts["aeo_type"] == "AEOS"
    assert current["trader:GB100000000004"].version == 1


def test_aeo_is_judged_on_the_declarations_own_day(register, world, django_capture_on_commit_callbacks):
    rows = [trader_row(0, **{"AEO valid from": "2024-01-01", "AEO valid to": "2024-12-31"})]
    load(register, "r.csv", register_csv(rows).encode(), django_capture_on_commit_callbacks)
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="old decl")

    def consignment(day: dt.date) -> Subject:
        moment = dt.datetime.combine(day, dt.time(12), dt.UTC)
        return Subject(
            pk=day.toordinal(), kind="consignment", source=source, owner_agency_id=source.owner_agency_id,
            external_id="x", title="x", arrival_at=moment, received_at=moment,
            facts={"importer_id": "gb100000000000"},
        )  # fmt: skip

    inside, after = consignment(dt.date(2024, 6, 1)), consignment(dt.date(2025, 6, 1))
    fill_register_facts([inside, after])
    assert inside.facts["importer_aeo"] is True and inside.facts["importer_aeo_type"] == "AEOC"
    assert after.facts["importer_aeo"] is False and after.facts["importer_in_register"] is True


def test_an_integrator_pushes_a_register_through_the_api(world, register, django_capture_on_commit_callbacks):
    """The same push as declarations: JSON in, a run answered at once, its problems named by path."""
    from rest_framework.test import APIClient

    from apps.agencies import tokens

    system = member("register.feed", world.customs, Role.SYSTEM)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user=system, name='register').secret}")
    payload = {
        "traders": [
            {
                "operator_id": "GB553202734852",
                "name": "Acme Imports Ltd",
                "aeo": {"status": "active", "type": "AEOS"},
            },
            {"operator_id": "553202734852", "name": "No country"},
        ]
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/api/v1/intake-runs/", {"source": register.pk, "payload": payload}, format="json")
    assert answer.status_code == 202, answer.content
    run = api.get(f"/api/v1/intake-runs/{answer.json()['id']}/").json()
    assert run["format"] == "traders-json" and run["status"] == "rejects"
    assert [p["where"] for p in run["problems"]] == ["$.traders[1].operator_id"]
    trader = Subject.objects.get(source=register, external_id="trader:GB553202734852")
    assert trader.facts["aeo"] is True and trader.facts["aeo_type"] == "AEOS"
    # Another agency may not load data into this register.
    other = member("bio.feed", world.bio, Role.SYSTEM)
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user=other, name='x').secret}")
    refused = api.post("/api/v1/intake-runs/", {"source": register.pk, "payload": payload}, format="json")
    assert refused.status_code == 404
