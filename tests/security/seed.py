"""The seeded world of the security crawl: the demo's agencies, ports and people, and objects of every
kind the URL map can reach, owned by different agencies, with a sentinel string in every free-text field.

``SENTINELS`` declares, for every sentinel, who may read it (by demo username). The crawl asserts that no
response to anyone else contains it. The table is the test's statement of the disclosure rule:

- a nomination reason of kind "person", a private note, a reject or withdraw reason, and a traveller's
  personal fields stay with the owner agency's desk (not its frontline officers: need to know);
- a partner's hold reason stays with the holding agency;
- a joint operation's name stays with the agencies in the operation;
- whatever hangs off a target at port B (instruction, result, photo, comment, attachment, hold, history)
  stays away from the officer of port A, and the reverse.

Ids: before the objects are made, each model with ``objects.visible_to`` gets its own id range
(``model_index * ID_STRIDE``), so that an id of one kind given to a route of another kind is an id that
route never saw: the answer must be the same as for a missing id.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from apps.agencies.models import Agency, AgencyKind, Port
from apps.agencies.roles import Role
from apps.core.demo import ensure_demo_world
from apps.intake.models import DataSource, IntakeRun, SourceKind, Subject, SubjectKind
from tests.factories import AgencyFactory, member

ID_STRIDE = 10_000
#: An id no model uses: the answer every invisible id must equal.
MISSING_ID = 987_654_321

# --------------------------------------------------------------------------- who may read what

CUS_DESK = frozenset({"analyst", "supervisor", "riskmanager", "manager", "auditor", "admin", "integrator"})
OFFICER_A = "officer.felixstowe"  # GBFXT, port A
OFFICER_B = "officer.heathrow"  # GBLHR, port B
OFFICERS = frozenset({OFFICER_A, OFFICER_B, "officer.dover"})
#: Felixstowe's own duty manager: a desk for his agency's subjects and rules, and for targets only his
#: port's, as the operating model gives them (centralised here: once approved).
PORT_TEAM_A = "supervisor.felixstowe"
CUS_STAFF = CUS_DESK | {PORT_TEAM_A}
CUS_ALL = CUS_STAFF | OFFICERS
POL = frozenset({"police.liaison", "police.auditor"})
IMM = frozenset({"immigration.liaison"})
BIO = frozenset({"biosecurity.liaison", "bio.analyst"})
EVERYONE = CUS_ALL | POL | IMM | BIO

#: The crawl's people: every demo user, a police auditor and a biosecurity analyst (the outsider).
EXTRA_USERS = [("police.auditor", "POL", Role.AUDITOR), ("bio.analyst", "BIO", Role.ANALYST)]

#: Every form the traveller's date of birth may be rendered in.
DOB = date(1913, 7, 29)
DOB_FORMS = ("1913-07-29", "29/07/1913", "29.07.1913", "29 Jul 1913", "Jul. 29, 1913", "July 29, 1913")

SENTINELS: dict[str, frozenset[str]] = {
    # T1: customs target shared "see" with IMM; IMM sees the target and its rule reason, not the person
    # reason (free text may name people), nor the private note.
    "SNTL-CUSNOMREASON-7f3": CUS_DESK,
    "SNTL-CUSNOMTRANS-7f4": CUS_DESK,
    "SNTL-CUSRULEREASON-1a1": CUS_DESK | IMM,
    "SNTL-CUSPRIVNOTE-2b4": CUS_DESK,
    "SNTL-CUSNOTE-3c5": CUS_DESK | IMM,
    "SNTL-ATTACHBODY-3c6": CUS_DESK | IMM,
    # T2: customs target shared "act" with POL and held by POL: customs sees that it is held, not why.
    "SNTL-POLHOLD-4d6": POL,
    "SNTL-CUSREASON2-4d7": CUS_DESK | POL | {PORT_TEAM_A},  # approved at port A
    # T3: a police target in a POL+IMM joint operation, shared "see" with customs.
    "SNTL-OPNAME-5e7": POL | IMM,
    "SNTL-OPDESC-5e8": POL | IMM,
    "SNTL-POLREASON-6f8": POL | CUS_DESK,
    # T4: a customs traveller from a customs source shared with nobody; the target is shared "see" with
    # POL and IMM, who may not see the personal fields. Subjects are the agency's desks' (a port team's
    # too, behind the personal-data gate); only targets are narrowed to a port team's ports.
    "SNTLNAMEKOVAC": CUS_STAFF,
    "SNTLGIVENMIRA": CUS_STAFF,
    "SNTLDOC7741": CUS_STAFF,
    "SNTLPNRX9Q": CUS_STAFF,
    **{form: CUS_STAFF for form in DOB_FORMS},
    "SNTL-CUSPAXSRC-8a1": CUS_ALL,
    # Port B (GBLHR): a dispatched target with everything that hangs off it, and a held one.
    # The tablet shows rule and model reasons to the officer of the port; free text (kind "person")
    # and watchlist reasons only exist for him (need to know).
    "SNTL-PORTBREASON-9b1": CUS_DESK | {OFFICER_B},
    "SNTL-PORTBPERSON-9b8": CUS_DESK,
    "SNTL-INSTRB-9b2": CUS_DESK | {OFFICER_B},
    "SNTL-RESULTB-9b3": CUS_DESK | {OFFICER_B},
    "SNTL-COMMENTB-9b4": CUS_DESK | {OFFICER_B},
    "SNTL-ATTACHB-9b5": CUS_DESK | {OFFICER_B},
    "SNTL-TRANSB-9b6": CUS_DESK | {OFFICER_B},
    "SNTL-HOLDB-9b7": CUS_DESK | {OFFICER_B},
    # Port A (GBFXT): the officer sees the instruction and the result, not the reasons behind them.
    "SNTL-PORTAREASON-0a1": CUS_DESK | {OFFICER_A, PORT_TEAM_A},
    "SNTL-PORTAPERSON-0a4": CUS_DESK | {PORT_TEAM_A},
    "SNTL-INSTRA-0a2": CUS_DESK | {OFFICER_A, PORT_TEAM_A},
    "SNTL-RESULTA-0a3": CUS_DESK | {OFFICER_A, PORT_TEAM_A},
    # Side exits: reasons stay with the owner agency.
    "SNTL-REJECTREASON-1b1": CUS_DESK,
    "SNTL-WITHDRAWREASON-1b2": CUS_DESK,
    # Customs subjects of every kind, from a customs-only source.
    "SNTL-CUSCONSIGNMENT-2c1": CUS_ALL,
    "SNTL-CUSVESSEL-2c2": CUS_ALL,
    "SNTL-CUSTRADER-2c3": CUS_ALL,
    # Rules, watchlists, models, intake, oversight of each agency.
    "SNTL-CUSRULENAME-3d1": CUS_ALL,
    "SNTL-CUSRULERAT-3d2": CUS_ALL,
    "SNTL-CUSREVIEW-3d3": CUS_ALL,
    "SNTL-POLRULENAME-3d4": POL,
    "SNTL-POLRULERAT-3d5": POL,
    "SNTL-CUSWLNAME-4e1": CUS_ALL,
    "SNTLCUSWLPERSON": CUS_ALL,
    "SNTL-POLWLNAME-4e2": POL,
    "SNTLPOLWLPERSON": POL,
    "SNTL-CUSRULING-4e3": CUS_ALL,
    "SNTL-POLRULING-4e4": POL,
    "SNTL-CUSTRAINMSG-5f2": CUS_ALL,
    "SNTL-CUSINTAKE-6a1": CUS_ALL,
    "SNTL-IMMINTAKE-6a2": IMM,
    "SNTL-CUSUNMASK-7b1": CUS_ALL,
    "SNTL-POLSRCDESC-7b2": POL,
    "SNTL-POLSUBJECT-7b3": POL,
    "SNTL-BIOREASON-8c1": BIO,
    "SNTL-BIOSUBJECT-8c2": BIO,
}


@dataclass
class World:
    """What the crawl needs to know about the seeded world."""

    users: dict[str, Any]
    agencies: dict[str, Agency]
    ports: dict[str, Port]
    targets: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- id ranges


def scoped_models() -> list[type]:
    """Every model a user can reach through ``objects.visible_to`` (found, not listed)."""
    tables = set(connection.introspection.table_names())
    found = [
        m for m in apps.get_models()
        if hasattr(m._default_manager, "visible_to") and m._meta.db_table in tables  # migrated only
    ]  # fmt: skip
    return sorted(found, key=lambda m: m._meta.label)


def spread_ids(models: list[type]) -> None:
    """Start each model's ids at its own multiple of ``ID_STRIDE`` (SQLite and PostgreSQL)."""
    with connection.cursor() as cursor:
        for index, model in enumerate(models, start=1):
            pk = model._meta.pk
            if pk.get_internal_type() not in {"AutoField", "BigAutoField", "SmallAutoField"}:
                continue  # a one-to-one primary key (TargetStat) takes its parent's id
            table, start = model._meta.db_table, index * ID_STRIDE
            current = model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
            if not current < start + ID_STRIDE // 2:
                raise AssertionError(f"{model._meta.label} already has ids up to {current}; raise ID_STRIDE")
            start = max(start, current)  # a second world in the same database continues its range
            if connection.vendor == "sqlite":
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start])
            elif connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)", [table, pk.column, start])


def model_of_id(pk: int, models: list[type]) -> type | None:
    index = pk // ID_STRIDE
    return models[index - 1] if 1 <= index <= len(models) else None


# --------------------------------------------------------------------------- building


def _subject(source: DataSource, kind: str, title: str, port: Port | None, **kw: Any) -> Subject:
    now = timezone.now()
    return Subject.objects.create(
        kind=kind, source=source, owner_agency=source.owner_agency, external_id=kw.pop("external_id", title),
        title=title, port=port, arrival_at=now + timedelta(hours=kw.pop("hours", 10)), received_at=now,
        facts=kw.pop("facts", {}), details=kw.pop("details", {}),
    )  # fmt: skip


def _target(subject: Subject, state: str, reasons: list[dict[str, str]], *, owner: Agency | None = None,
            nominator: Any = None, history: list[tuple[str, str, str, Any]] = (), **kw: Any):  # fmt: skip
    """A target in ``state`` with its history: ``history`` is ``[(from, to, reason, actor)]`` after the
    nomination (whose reason is ``kw['nomination']``)."""
    from apps.agencies.operations import membership_of
    from apps.targeting.models import Target, Transition

    target = Target.objects.create(
        subject=subject, owner_agency=owner or subject.owner_agency, state=state, risk_area=kw.pop("risk_area", "narcotics"),
        reasons=reasons, priority=60, port=subject.port, arrival_at=subject.arrival_at, nominated_by=nominator,
        version=1 + len(history), resume_state=kw.pop("resume_state", ""),
    )  # fmt: skip
    steps = [("", "nominated", kw.pop("nomination", ""), nominator), *history]
    for version, (before, after, reason, actor) in enumerate(steps, start=1):
        membership = membership_of(actor) if actor is not None else None
        Transition.objects.create(
            target=target, actor=actor, actor_agency=membership.agency if membership else None,
            from_state=before, to_state=after, version=version, reason=reason,
        )  # fmt: skip
    return target


def _comment(target: Any, author: Any, body: str, *, shared_with=(), attachment: bytes | None = None):
    from apps.agencies.operations import membership_of
    from apps.targeting.models import Attachment, Comment

    comment = Comment.objects.create(
        target=target, author=author, owner_agency=membership_of(author).agency, body=body
    )
    comment.shared_with.set(list(shared_with))
    if attachment is not None:
        found = Attachment(
            comment=comment, name="sntl-note.txt", content_type="text/plain", size=len(attachment),
            sha256=hashlib.sha256(attachment).hexdigest(),
        )  # fmt: skip
        found.file.save("sntl-note.txt", ContentFile(attachment), save=True)
    return comment


def _dispatch(target: Any, port: Port, text: str, by: Any):
    from apps.targeting.models import Instruction

    return Instruction.objects.create(
        target=target, port=port, method="physical", shift="early", instruction=text, dispatched_by=by
    )


def _result(target: Any, instruction: Any, officer: Any, notes: str, agency: Agency):
    from apps.frontline.models import ExaminationFeedback, ExaminationPhoto, ExaminationResult

    now = timezone.now()
    result = ExaminationResult.objects.create(
        target=target, instruction=instruction, idempotency_key=uuid.uuid4(), method="physical",
        outcome="seizure", started_at=now - timedelta(minutes=30), ended_at=now, notes=notes,
        recorded_by=officer, recorded_by_agency=agency,
    )  # fmt: skip
    ExaminationFeedback.objects.create(
        examination=result, target=target, kind="rule", ref=f"rule:{target.pk}", outcome="seizure",
        finding=True, examined_at=now,
    )  # fmt: skip
    data = _jpeg()
    photo = ExaminationPhoto(
        result=result, sha256=hashlib.sha256(data).hexdigest(), content_type="image/jpeg", size=len(data),
        width=8, height=8,
    )  # fmt: skip
    photo.file.save("sntl.jpg", ContentFile(data), save=True)
    return result


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _people(world: World) -> None:
    ensure_demo_world()
    User = get_user_model()
    world.agencies = {a.code: a for a in Agency.objects.all()}
    world.ports = {p.locode: p for p in Port.objects.all()}
    for username, code, role in EXTRA_USERS:
        member(username, world.agencies[code], role)
    world.users = {u.username: u for u in User.objects.filter(membership__isnull=False)}


def build_world() -> World:
    """Make the demo people, spread the id ranges, then make every kind of object with sentinels."""
    from apps.targeting.models import HandlingCode, JointOperation, TargetShare

    world = World(users={}, agencies={}, ports={})
    AgencyFactory(code="BIO", name="Biosecurity Authority", kind=AgencyKind.BIOSECURITY)
    _people(world)
    spread_ids(scoped_models())
    u, ag, port_a, port_b = world.users, world.agencies, world.ports["GBFXT"], world.ports["GBLHR"]
    cus, pol, imm, bio = ag["CUS"], ag["POL"], ag["IMM"], ag["BIO"]
    analyst, supervisor = u["analyst"], u["supervisor"]
    t, o = world.targets, world.objects

    declarations = DataSource.objects.get(name="Import declarations")  # customs, shared with nobody
    lookouts = DataSource.objects.get(name="Police lookouts")  # police, shared with nobody
    DataSource.objects.filter(pk=lookouts.pk).update(description="SNTL-POLSRCDESC-7b2")
    pax = DataSource.objects.create(
        name="SNTL-CUSPAXSRC-8a1 customs passenger records", kind=SourceKind.PNR, owner_agency=cus,
        legal_basis="Customs code, art. 46", depersonalise_after_days=3650,
    )  # fmt: skip
    bio_source = DataSource.objects.create(
        name="Biosecurity inspections",
        kind=SourceKind.ENFORCEMENT,
        owner_agency=bio,
        legal_basis="Plant health",
    )
    o["source_pax"], o["source_bio"] = pax, bio_source

    # T1: customs, reason of kind "person", shared "see" with IMM; a private and a shared note.
    s1 = _subject(declarations, SubjectKind.CONSIGNMENT, "SNTL-CUSCONSIGNMENT-2c1 machine parts", port_a,
                  facts={"hs_code": "8471", "origin_country": "CN"})  # fmt: skip
    t["t1"] = _target(
        s1, "in_review",
        [{"kind": "rule", "text": "SNTL-CUSRULEREASON-1a1", "ref": "R-1"},
         {"kind": "person", "text": "SNTL-CUSNOMREASON-7f3 informant names importer", "ref": ""}],
        nominator=analyst, nomination="SNTL-CUSNOMTRANS-7f4 informant names importer",
        history=[("nominated", "in_review", "", analyst)],
    )  # fmt: skip
    TargetShare.objects.create(target=t["t1"], agency=imm, code=HandlingCode.SEE, shared_by=analyst)
    _comment(t["t1"], analyst, "SNTL-CUSPRIVNOTE-2b4 private")
    _comment(
        t["t1"], analyst, "SNTL-CUSNOTE-3c5 shared", shared_with=[imm], attachment=b"SNTL-ATTACHBODY-3c6"
    )

    # T2: customs, approved, shared "act" with POL; POL holds it (through the service: its history too).
    s2 = _subject(declarations, SubjectKind.CONSIGNMENT, "Consignment of ceramic tiles", port_a)
    t["t2"] = _target(
        s2, "approved", [{"kind": "rule", "text": "SNTL-CUSREASON2-4d7", "ref": "R-2"}], nominator=analyst,
        history=[("nominated", "in_review", "", analyst), ("in_review", "awaiting_approval", "", analyst),
                 ("awaiting_approval", "approved", "", supervisor)],
    )  # fmt: skip
    TargetShare.objects.create(target=t["t2"], agency=pol, code=HandlingCode.ACT, shared_by=analyst)
    from apps.targeting.services import place_hold

    o["pol_hold"] = place_hold(
        actor=u["police.liaison"], target=t["t2"], reason="SNTL-POLHOLD-4d6 controlled delivery, operation"
    )

    # T3: police target in a POL+IMM joint operation, shared "see" with customs.
    now = timezone.now()
    operation = JointOperation.objects.create(
        name="SNTL-OPNAME-5e7", owner_agency=pol, description="SNTL-OPDESC-5e8", starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=5),
    )  # fmt: skip
    operation.agencies.set([pol, imm])
    operation.members.add(u["police.liaison"])
    o["operation"] = operation
    s3 = _subject(lookouts, SubjectKind.CONSIGNMENT, "SNTL-POLSUBJECT-7b3 parcel", port_a)
    t["t3"] = _target(
        s3, "nominated", [{"kind": "rule", "text": "SNTL-POLREASON-6f8", "ref": "P-1"}],
        nominator=u["police.liaison"], history=[("nominated", "nominated", "Added to operation SNTL-OPNAME-5e7",
                                                  u["police.liaison"])],
    )  # fmt: skip
    t["t3"].operation = operation
    t["t3"].save(update_fields=["operation"])
    TargetShare.objects.create(target=t["t3"], agency=cus, code=HandlingCode.SEE)

    # T4: a customs traveller from a customs-only source, target shared "see" with POL and IMM.
    traveller = _subject(
        pax, SubjectKind.TRAVELLER, "SNTLNAMEKOVAC, SNTLGIVENMIRA", port_b,
        external_id="pnr:SNTLPNRX9Q:SNTLDOC7741",
        facts={"surname": "SNTLNAMEKOVAC", "given_names": "SNTLGIVENMIRA", "date_of_birth": DOB.isoformat(),
               "document_number": "SNTLDOC7741", "booking_reference": "SNTLPNRX9Q", "nationality": "HR",
               "paid_cash": True},
        details={"surname": "SNTLNAMEKOVAC", "given_names": "SNTLGIVENMIRA", "date_of_birth": DOB.isoformat(),
                 "document": {"number": "SNTLDOC7741", "type": "P"}, "booking_reference": "SNTLPNRX9Q"},
    )  # fmt: skip
    t["t4"] = _target(
        traveller, "nominated", [{"kind": "rule", "text": "Courier profile", "ref": "R-4"}], nominator=analyst
    )
    for agency in (pol, imm):
        TargetShare.objects.create(target=t["t4"], agency=agency, code=HandlingCode.SEE, shared_by=analyst)
    o["traveller"] = traveller

    # Port B: a dispatched-and-examined target with everything on it, and a dispatched one held since.
    s5 = _subject(declarations, SubjectKind.CONSIGNMENT, "Air cargo of phones", port_b)
    t["t5"] = _target(
        s5, "result_recorded", [{"kind": "rule", "text": "SNTL-PORTBREASON-9b1", "ref": "R-5"},
                                {"kind": "person", "text": "SNTL-PORTBPERSON-9b8 tip-off", "ref": ""}],
        nominator=analyst,
        history=[("nominated", "approved", "SNTL-TRANSB-9b6 approved", supervisor),
                 ("approved", "dispatched", "Physical at GBLHR", supervisor),
                 ("dispatched", "result_recorded", "", u[OFFICER_B])],
    )  # fmt: skip
    instruction_b = _dispatch(t["t5"], port_b, "SNTL-INSTRB-9b2 open the pallets", supervisor)
    _result(t["t5"], instruction_b, u[OFFICER_B], "SNTL-RESULTB-9b3 found phones", cus)
    _comment(t["t5"], supervisor, "SNTL-COMMENTB-9b4", attachment=b"SNTL-ATTACHB-9b5")
    s6 = _subject(declarations, SubjectKind.CONSIGNMENT, "Air cargo of watches", port_b)
    t["t6"] = _target(
        s6, "on_hold", [{"kind": "rule", "text": "SNTL-PORTBREASON-9b1", "ref": "R-6"}], nominator=analyst,
        resume_state="dispatched",
        history=[("nominated", "approved", "", supervisor), ("approved", "dispatched", "", supervisor),
                 ("dispatched", "on_hold", "SNTL-HOLDB-9b7", supervisor)],
    )  # fmt: skip
    _dispatch(t["t6"], port_b, "SNTL-INSTRB-9b2 watches", supervisor)
    from apps.targeting.models import Hold

    Hold.objects.create(target=t["t6"], agency=cus, placed_by=supervisor, reason="SNTL-HOLDB-9b7")

    # Port A: a dispatched target (the officer's open instruction) and an examined one.
    s7 = _subject(declarations, SubjectKind.CONSIGNMENT, "Reefer of bananas", port_a)
    t["t7"] = _target(
        s7, "dispatched", [{"kind": "rule", "text": "SNTL-PORTAREASON-0a1", "ref": "R-7"},
                           {"kind": "person", "text": "SNTL-PORTAPERSON-0a4 tip-off", "ref": ""}],
        nominator=analyst,
        history=[("nominated", "approved", "", supervisor), ("approved", "dispatched", "", supervisor)],
    )  # fmt: skip
    _dispatch(t["t7"], port_a, "SNTL-INSTRA-0a2 scan the reefer", supervisor)
    s8 = _subject(declarations, SubjectKind.CONSIGNMENT, "Reefer of pineapples", port_a)
    t["t8"] = _target(
        s8, "result_recorded", [{"kind": "rule", "text": "SNTL-PORTAREASON-0a1", "ref": "R-8"}], nominator=analyst,
        history=[("nominated", "approved", "", supervisor), ("approved", "dispatched", "", supervisor),
                 ("dispatched", "result_recorded", "", u[OFFICER_A])],
    )  # fmt: skip
    instruction_a = _dispatch(t["t8"], port_a, "SNTL-INSTRA-0a2 pineapples", supervisor)
    _result(t["t8"], instruction_a, u[OFFICER_A], "SNTL-RESULTA-0a3 cocaine in fruit", cus)

    # Side exits, shared "see": the partner sees the state, not the owner's reason.
    s9 = _subject(declarations, SubjectKind.CONSIGNMENT, "Consignment of toys", port_a)
    t["t9"] = _target(s9, "rejected", [{"kind": "rule", "text": "Toys", "ref": "R-9"}], nominator=analyst,
                      history=[("nominated", "rejected", "SNTL-REJECTREASON-1b1 weak", supervisor)])  # fmt: skip
    TargetShare.objects.create(target=t["t9"], agency=imm, code=HandlingCode.SEE)
    s10 = _subject(declarations, SubjectKind.CONSIGNMENT, "Consignment of shoes", port_a)
    t["t10"] = _target(s10, "withdrawn", [{"kind": "rule", "text": "Shoes", "ref": "R-10"}], nominator=analyst,
                       history=[("nominated", "withdrawn", "SNTL-WITHDRAWREASON-1b2 dup", analyst)])  # fmt: skip
    TargetShare.objects.create(target=t["t10"], agency=pol, code=HandlingCode.SEE)

    # Subjects of the other kinds (customs only) and of other agencies.
    o["vessel"] = _subject(declarations, SubjectKind.CONVEYANCE, "SNTL-CUSVESSEL-2c2 MV Example", port_a)
    o["trader"] = _subject(declarations, SubjectKind.TRADER, "SNTL-CUSTRADER-2c3 Ltd", None)
    s11 = _subject(bio_source, SubjectKind.CONSIGNMENT, "SNTL-BIOSUBJECT-8c2 plants", port_a)
    t["t11"] = _target(s11, "nominated", [{"kind": "rule", "text": "SNTL-BIOREASON-8c1", "ref": "B-1"}],
                       nominator=u["bio.analyst"])  # fmt: skip

    _risk(world, declarations)
    _watchlists(world)
    _learning(world)
    _intake_and_oversight(world, declarations)
    _dispatch_proposal(world)
    return world


def _risk(world: World, declarations: DataSource) -> None:
    from apps.reports.models import RuleReview
    from apps.risk.models import Assessment, Backtest, Hit, Rule, RuleVersion

    u, ag, o = world.users, world.agencies, world.objects
    for code, name, rationale in (("CUS", "SNTL-CUSRULENAME-3d1", "SNTL-CUSRULERAT-3d2"),
                                  ("POL", "SNTL-POLRULENAME-3d4", "SNTL-POLRULERAT-3d5")):  # fmt: skip
        rule = Rule.objects.create(name=name, owner_agency=ag[code], latest_number=1, state="active")
        version = RuleVersion.objects.create(
            rule=rule, number=1, condition={"field": "paid_cash", "op": "eq", "value": True},
            text="paid_cash = true", subject_kind="traveller", risk_area="narcotics", weight=60, rationale=rationale,
        )  # fmt: skip
        Rule.objects.filter(pk=rule.pk).update(live_version=version)
        o[f"rule_{code}"], o[f"version_{code}"] = rule, version
        Backtest.objects.create(
            owner_agency=ag[code], rule=rule, version=version, period_start=date(2025, 1, 1),
            period_end=date(2025, 1, 31), status=Backtest.Status.DONE,
        )  # fmt: skip
    RuleReview.objects.create(
        rule=o["rule_CUS"], reviewer=u["riskmanager"], reviewed_on=date(2026, 1, 5), rationale="SNTL-CUSREVIEW-3d3",
        outcome="keep",
    )  # fmt: skip
    traveller = o["traveller"]
    assessment = Assessment.objects.create(
        subject=traveller, score=72, channel="red", risk_area="narcotics", nominated=True,
        target_id=world.targets["t4"].pk,
        explanation={"rules": [{"rule": o["rule_CUS"].pk, "name": "SNTL-CUSRULENAME-3d1", "weight": 60,
                                "matched": {"surname": "SNTLNAMEKOVAC"}}], "score": 72},
    )  # fmt: skip
    Hit.objects.create(
        assessment=assessment, rule=o["rule_CUS"], rule_version=o["version_CUS"], weight=60, risk_area="narcotics",
        matched={"paid_cash": True, "surname": "SNTLNAMEKOVAC"},
    )  # fmt: skip
    police_subject = world.targets["t3"].subject
    police_assessment = Assessment.objects.create(
        subject=police_subject, score=40, channel="yellow", explanation={}
    )
    Hit.objects.create(
        assessment=police_assessment, rule=o["rule_POL"], rule_version=o["version_POL"], weight=40,
        risk_area="narcotics", matched={"title": "SNTL-POLSUBJECT-7b3"},
    )  # fmt: skip


def _watchlists(world: World) -> None:
    from tests.watchlists.helpers import make_entry, make_list, make_run

    for code, name, person in (("CUS", "SNTL-CUSWLNAME-4e1", "SNTLCUSWLPERSON Ivanov"),
                               ("POL", "SNTL-POLWLNAME-4e2", "SNTLPOLWLPERSON Petrov")):  # fmt: skip
        watchlist = make_list(world.agencies[code], name=name)
        entry = make_entry(watchlist, person, dates_of_birth=["1960-01-01"])
        make_run(watchlist)
        world.objects[f"watchlist_{code}"] = watchlist
        world.objects[f"entry_{code}"] = entry
    # A hit of each list, ruled by its agency with a reason only those who see subject and list may read.
    from apps.watchlists.models import HitRuling, MatchRuling, WatchlistHit

    for code, subject, who, reason in (
        ("CUS", world.objects["traveller"], "analyst", "SNTL-CUSRULING-4e3"),
        ("POL", world.targets["t3"].subject, "police.liaison", "SNTL-POLRULING-4e4"),
    ):
        hit = WatchlistHit.objects.create(subject=subject, entry=world.objects[f"entry_{code}"], score=0.91)
        HitRuling.objects.create(
            hit=hit, ruling=MatchRuling.UNSURE, reason=reason, ruled_by=world.users[who],
            agency=world.agencies[code],
        )  # fmt: skip
        world.objects[f"hit_{code}"] = hit


def _learning(world: World) -> None:
    from apps.learning.models import DriftCheck, ModelVersion, TrainingRun

    for code in ("CUS", "POL"):
        agency = world.agencies[code]
        version = ModelVersion.objects.create(
            owner_agency=agency, number=1, source_names=["Import declarations"],
            note="Customs model, first version" if code == "CUS" else "",
            metrics={"precision@5%": 0.9, "precision@10%": 0.8, "recall@10%": 0.4, "auc": 0.9, "base_rate": 0.2},
        )  # fmt: skip
        TrainingRun.objects.create(
            owner_agency=agency, status=TrainingRun.Status.DONE, progress=1.0, model_version=version,
            message="SNTL-CUSTRAINMSG-5f2" if code == "CUS" else "",
        )  # fmt: skip
        now = timezone.now()
        DriftCheck.objects.create(model_version=version, window_start=now - timedelta(days=7), window_end=now)


def _intake_and_oversight(world: World, declarations: DataSource) -> None:
    from apps.compliance.chain import append
    from apps.compliance.models import AccessLogEntry, UnmaskRequest
    from apps.reports.models import ReportSubscription

    u, ag = world.users, world.agencies
    api_source = DataSource.objects.get(name="API — all carriers")  # immigration's
    IntakeRun.objects.create(
        source=declarations, requested_by=u["integrator"], files=["sntl.csv"], status=IntakeRun.Status.DONE_WITH_REJECTS,
        problems=[{"file": "sntl.csv", "where": "line 2", "reason": "SNTL-CUSINTAKE-6a1"}],
    )  # fmt: skip
    IntakeRun.objects.create(
        source=api_source, files=["paxlst.edi"], status=IntakeRun.Status.DONE_WITH_REJECTS,
        problems=[{"file": "paxlst.edi", "where": "segment 9", "reason": "SNTL-IMMINTAKE-6a2"}],
    )  # fmt: skip
    UnmaskRequest.objects.create(
        subject=world.objects["traveller"],
        agency=ag["CUS"],
        requested_by=u["analyst"],
        reason="SNTL-CUSUNMASK-7b1",
    )
    for username in ("analyst", "police.liaison"):
        user = u[username]
        append(
            AccessLogEntry, at=timezone.now(), user=user, agency=user.membership.agency, action="view",
            purpose="risk_analysis", object_type="subject", object_id=str(world.objects["traveller"].pk),
            summary=f"Viewed a traveller ({username})",
        )  # fmt: skip
    for username in ("manager", "police.auditor"):
        ReportSubscription.objects.create(user=u[username])


def _dispatch_proposal(world: World) -> None:
    from apps.targeting.models import DispatchProposal

    for code in ("CUS", "POL"):
        DispatchProposal.objects.create(
            port=world.ports["GBFXT"], shift="early", agency=world.agencies[code],
            created_by=world.users["supervisor" if code == "CUS" else "police.liaison"],
            selected=[], left_out=[],
        )  # fmt: skip
