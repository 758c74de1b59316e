"""The world ``bench.flow`` measures in: the demo as ``make demo`` makes it, grown to N subjects.

1. ``build_demo``: the demo world (``ensure_demo_world``), the simulator's first-start set-up (rules,
   the UN watchlist, labelled history and a trained model, officers for every port) and ``ticks``
   ticks of the simulated floor: arrivals whose API, PNR and declarations go through the real intake,
   the risk engine, and simulated staff who review, decide, dispatch and record results.
2. ``grow``: copies of what that produced, up to N subjects, loaded with COPY
   (``apps.intake.bulk.bulk_insert_rows``) in batches. Each copy takes a real subject as its template:
   its facts, record, source, port and kind; its latest assessment (explanation included) and rule
   hits; its links to its traders. Travellers come in pairs (API and PNR of one person, linked as the
   same person and sharing identity keys) with names drawn from ``bench.assess_million``'s realistic
   name pools, and a document number of their own. 97 % arrived over the last 90 days, 3 % arrive in
   the next two days. About ``target_share`` of the assessed copies became targets, each with the
   reasons of a real target and a history that fits its arrival: decided, dispatched, examined and
   closed for the past ones (findings with seized goods, outcomes and feedback to the rules), still
   open for the coming ones. Their transitions are keyed and linked into the hash chain.

The first ``pool`` copies are the bench's own: arriving in the next two days, assessed with a rule
hit, never targeted, free of watchlist hits, so that each pass of the flow nominates a fresh one.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

Say = Callable[[str], None]

#: The marker in the external id of every grown subject ("api:flow:00000012").
MARK = ":flow:"
DAYS = 90
UPCOMING_SHARE = 0.03
#: Share of each kind among grown subjects (travellers count both records of a pair).
KIND_SHARE = {"consignment": 0.55, "traveller": 0.40, "conveyance": 0.03, "trader": 0.02}
PAST_STATES = {"closed": 45, "result_recorded": 8, "rejected": 15, "withdrawn": 14, "missed": 8}
UPCOMING_STATES = {
    "nominated": 25, "in_review": 15, "awaiting_approval": 15, "approved": 10, "dispatched": 25,
    "in_examination": 5, "rejected": 5,
}  # fmt: skip
_WAY = ["nominated", "in_review", "awaiting_approval", "approved", "dispatched", "in_examination"]
PATHS: dict[str, list[str]] = {
    **{state: _WAY[: i + 1] for i, state in enumerate(_WAY)},
    "result_recorded": [*_WAY, "result_recorded"],
    "closed": [*_WAY, "result_recorded", "closed"],
    "rejected": ["nominated", "in_review", "rejected"],
    "withdrawn": ["nominated", "withdrawn"],
    "missed": [*_WAY[:5], "missed"],
}
#: Who makes each move: the engine nominates, the analyst reviews, the supervisor decides, the officer examines.
MOVER = {
    "nominated": None, "in_review": "analyst", "awaiting_approval": "analyst", "withdrawn": "analyst",
    "closed": "analyst", "approved": "supervisor", "rejected": "supervisor", "dispatched": "supervisor",
    "missed": "supervisor", "in_examination": "officer", "result_recorded": "officer",
}  # fmt: skip
METHODS = ["physical", "scan", "documents", "dog", "interview"]
GOODS = {"narcotics": ("cocaine", "kg"), "revenue": ("tobacco", "sticks"), "ipr": ("counterfeit", "pcs")}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Raw(str):
    """A value already in COPY's text format: a template's JSON, serialised and escaped once for all its
    copies (serialising the same explanation a million times was most of the load's time)."""


def raw_json(value: Any) -> Raw:
    return Raw(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).translate(_ESCAPES))


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, Raw):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def copy_rows(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """``apps.intake.bulk.bulk_insert_rows`` for rows whose JSON may come pre-serialised (``Raw``):
    keys from the table's sequence, then one COPY; returns the new keys in order."""
    from django.db import connection, models
    from django.utils import timezone

    if not rows:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for f in fields:
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        defaults[f.attname] = (
            raw_json(value) if isinstance(f, models.JSONField) and value is not None else value
        )
    jsons = {f.attname for f in fields if isinstance(f, models.JSONField)}
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [ident for (ident,) in cursor.fetchall()]
        columns = ", ".join(
            connection.ops.quote_name(c) for c in [meta.pk.column, *(f.column for f in fields)]
        )
        with cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            chunk: list[str] = []
            for ident, row in zip(ids, rows, strict=True):
                cells = [str(ident)]
                for name in names:
                    value = row[name] if name in row else defaults[name]
                    if name in jsons and value is not None and not isinstance(value, Raw):
                        value = raw_json(value)
                    cells.append(_cell(value))
                chunk.append("\t".join(cells))
                if len(chunk) >= 5000:
                    copy.write("\n".join(chunk) + "\n")
                    chunk.clear()
            if chunk:
                copy.write("\n".join(chunk) + "\n")
    return ids


@dataclass
class Template:
    """A real subject a grown one is copied from, with what hangs off it."""

    subject: dict[str, Any]
    assessment: dict[str, Any] | None = None
    hits: list[dict[str, Any]] = field(default_factory=list)
    target: dict[str, Any] | None = None
    parties: list[tuple[int, str]] = field(default_factory=list)
    key_kinds: list[str] = field(default_factory=list)
    watchlist_hit: bool = False
    texts: dict[str, Raw] = field(default_factory=dict)

    def text(self, name: str, value: Any) -> Raw:
        """``value`` (a JSON field of this template) in COPY's text format, made once."""
        if name not in self.texts:
            self.texts[name] = raw_json(value)
        return self.texts[name]


# ----------------------------------------------------------------------------------------- the demo


def build_demo(ticks: int, say: Say) -> dict[str, Any]:
    """``make demo``'s world: demo reference data, the simulator's set-up, then ``ticks`` ticks."""
    from apps.core.demo import ensure_demo_world

    made: dict[str, Any] = {"demo_world": ensure_demo_world()}
    say(f"demo world: {made['demo_world']}")
    try:
        from apps.simulator.setup import ensure_setup
    except ImportError as error:  # the simulator is optional to the bench
        say(f"no simulator set-up ({error}); growing from the demo world alone")
        return made
    made["setup"] = ensure_setup()
    for step, message in made["setup"].items():
        say(f"set-up {step}: {message}")
    made["ticks"] = simulate(ticks, say)
    return made


def simulate(ticks: int, say: Say) -> int:
    """``ticks`` ticks of the simulated floor, half an hour of simulated time each, as fast as they run."""
    from django.utils import timezone

    from apps.simulator.engine import Floor, Options

    floor = Floor(Options(setup=False))
    if ticks <= 0:
        return 0
    if not floor.acquire():
        say("another simulator holds this database's floor: no ticks")
        return 0
    base, done = timezone.now(), 0
    try:
        for i in range(ticks):
            try:
                report = floor.tick(base + timedelta(seconds=30 * i))
            except Exception as error:  # the floor's code is not the bench's: told, not fatal
                say(f"tick {i + 1}/{ticks} failed: {type(error).__name__}: {error}")
                continue
            done += 1
            say(f"tick {i + 1}/{ticks}: {report}")
    finally:
        floor.release()
    return done


# ----------------------------------------------------------------------------------------- templates


def load_templates() -> dict[str, list[Any]]:
    """The real subjects to copy, by group: ``pair`` (API, PNR of one traveller), ``traveller``,
    ``consignment``, ``conveyance``, ``trader``; ``profiles``: reasons and areas of real targets."""
    from apps.intake.models import Subject, SubjectKey, SubjectLink
    from apps.risk.models import Assessment, Hit
    from apps.targeting.models import Target
    from apps.watchlists.models import WatchlistHit

    subjects = {
        row["id"]: Template(subject=row)
        for row in Subject.objects.filter(status="current")
        .exclude(external_id__contains=MARK)
        .values("id", "kind", "source_id", "owner_agency_id", "external_id", "title", "port_id", "facts", "details")
    }  # fmt: skip
    for row in Assessment.objects.filter(subject_id__in=subjects).order_by("subject_id", "-created_at", "-pk").values(
        "id", "subject_id", "score", "channel", "risk_area", "explanation", "random_control"
    ):  # fmt: skip
        template = subjects[row["subject_id"]]
        if template.assessment is None:
            template.assessment = row
    latest = {t.assessment["id"]: t for t in subjects.values() if t.assessment}
    for row in Hit.objects.filter(assessment_id__in=latest).values(
        "assessment_id", "rule_id", "rule_version_id", "shadow", "weight", "risk_area", "matched"
    ):
        latest[row.pop("assessment_id")].hits.append(row)
    profiles = []
    for row in Target.objects.filter(subject_id__in=subjects).values(
        "subject_id", "risk_area", "reasons", "priority", "score", "random_control"
    ):
        subjects[row.pop("subject_id")].target = row
        profiles.append(row)
    for subject_id, key in SubjectKey.objects.filter(subject_id__in=subjects).values_list(
        "subject_id", "key"
    ):
        kind = key.partition(":")[0]
        if kind not in subjects[subject_id].key_kinds:
            subjects[subject_id].key_kinds.append(kind)
    for subject_id in WatchlistHit.objects.filter(subject_id__in=subjects).values_list(
        "subject_id", flat=True
    ):
        subjects[subject_id].watchlist_hit = True
    pairs, paired = [], set()
    for link in SubjectLink.objects.filter(from_subject_id__in=subjects).values(
        "from_subject_id", "to_subject_id", "kind", "reason"
    ):
        one, other = subjects.get(link["from_subject_id"]), subjects.get(link["to_subject_id"])
        if one is None or other is None:
            continue
        if link["kind"] == "same_person" and one.subject["port_id"] and other.subject["port_id"]:
            pairs.append((one, other, link["reason"]))
            paired.update({one.subject["id"], other.subject["id"]})
        elif link["kind"] == "party":
            one.parties.append((other.subject["id"], link["reason"]))
    groups: dict[str, list[Any]] = {"pair": pairs, "profiles": profiles}
    for kind in ("traveller", "consignment", "conveyance", "trader"):
        groups[kind] = [
            t
            for t in subjects.values()
            if t.subject["kind"] == kind
            and t.subject["id"] not in paired
            and (kind == "trader" or t.subject["port_id"])
        ]
    return groups


# ----------------------------------------------------------------------------------------- growing


@dataclass
class People:
    analyst: int
    supervisor: int
    officer_by_port: dict[int, int]
    officer: int
    customs: int


def _people() -> People:
    from django.contrib.auth import get_user_model

    from apps.agencies.models import Agency, Membership

    users = get_user_model().objects
    officers: dict[int, int] = {}
    for membership in (
        Membership.objects.filter(role="frontline", user__username__startswith="officer.")
        .order_by("user__username")
        .prefetch_related("ports")
    ):
        for port in membership.ports.all():
            officers.setdefault(port.pk, membership.user_id)
    return People(
        analyst=users.get(username="analyst").pk,
        supervisor=users.get(username="supervisor").pk,
        officer_by_port=officers,
        officer=next(iter(officers.values())),
        customs=Agency.objects.get(code="CUS").pk,
    )


class Grower:
    """Makes the rows of one batch of grown subjects and everything hanging off them, then loads them."""

    def __init__(
        self, groups: dict[str, list[Any]], *, seed: int, target_share: float, now: datetime
    ) -> None:
        self.rng = random.Random(seed)
        self.groups = groups
        self.target_share = target_share
        self.now = now
        self.people = _people()
        self.pools = name_pools()
        try:  # container numbers are keyed for the header search where intake keys them
            from apps.intake.normalise import key_hash
        except ImportError:
            key_hash = None
        self.key_hash: Callable[[str, str], str] | None = key_hash
        self.pending_keys: list[str] = []
        self.origins = list(self.pools)
        shares = {k: v for k, v in KIND_SHARE.items() if groups["pair" if k == "traveller" else k]}
        total = sum(shares.values()) or 1.0
        self.kinds = list(shares)
        self.weights = [shares[k] / total for k in self.kinds]
        hit_pool = [
            t for group in ("pair", "consignment", "traveller") for t in groups[group] if _poolable(t)
        ]
        assessed = [
            t for g in ("pair", "consignment", "traveller") for t in groups[g] if _first(t).assessment
        ]
        self.pool_templates = hit_pool or assessed
        self.targeted = {
            g: [t for t in groups[g] if any(x.target for x in _members(t))]
            for g in ("pair", "consignment", "traveller")
        }

    # --- one subject -------------------------------------------------------------------------------

    def _arrival(self, forced_upcoming: bool) -> tuple[datetime, datetime]:
        rng, now = self.rng, self.now
        if forced_upcoming or rng.random() < UPCOMING_SHARE:
            arrival = now + timedelta(minutes=rng.randint(90, 48 * 60))
        else:
            arrival = now - timedelta(minutes=rng.randint(0, DAYS * 1440))
        received = min(now - timedelta(minutes=1), arrival - timedelta(minutes=rng.randint(120, 72 * 60)))
        return arrival, received

    def _person(self) -> tuple[str, str, str]:
        given_pool, surname_pool = self.pools[self.rng.choice(self.origins)]
        given = str(self.rng.choice(given_pool))
        if self.rng.random() < 0.25:
            given += " " + str(self.rng.choice(given_pool))
        return (
            given,
            str(self.rng.choice(surname_pool)),
            f"{self.rng.choice('CEKLMNPX')}{self.rng.randint(10**7, 10**8 - 1)}",
        )

    def _subject_row(self, t: Template, n: int, arrival: datetime, received: datetime,
                     person: tuple[str, str, str] | None) -> dict[str, Any]:  # fmt: skip
        """A copy of ``t``'s subject: a traveller under another name and document, a declaration
        under another number; the JSON is the template's text with those values replaced."""
        s = t.subject
        key_hash = self.key_hash
        facts_before = s["facts"] or {}
        facts, details, title = (
            t.text("facts", facts_before),
            t.text("details", s["details"] or {}),
            s["title"],
        )
        if person is not None and s["kind"] == "traveller":
            given, surname, document = person
            old_surname, old_given = facts_before.get("surname") or "", facts_before.get("given_names") or ""
            swaps = [
                (
                    f'"full_name":{_js(facts_before.get("full_name"))}',
                    f'"full_name":{_js(f"{given} {surname}")}',
                ),
                (f'"surname":{_js(old_surname)}', f'"surname":{_js(surname)}'),
                (f'"given_names":{_js(old_given)}', f'"given_names":{_js(given)}'),
            ]
            if facts_before.get("document_number"):
                old_document = _js(facts_before["document_number"])
                swaps += [(f'"document_number":{old_document}', f'"document_number":{_js(document)}'),
                          (f'"number":{old_document}', f'"number":{_js(document)}')]  # fmt: skip
            for before, after in swaps:
                facts, details = facts.replace(before, after), details.replace(before, after)
            facts, details = Raw(facts), Raw(details)
            if old_surname and title.startswith(f"{old_surname}, "):
                title = f"{surname}, {given.title()}" + title[len(old_surname) + 2 + len(old_given) :]
        elif s["kind"] == "consignment":
            if facts_before.get("declaration_id"):
                number, before = f"FL{n:08d}", _js(facts_before["declaration_id"])
                facts = Raw(facts.replace(f'"declaration_id":{before}', f'"declaration_id":"{number}"'))
                details = Raw(details.replace(f":{before}", f':"{number}"'))
                title = title.replace(str(facts_before["declaration_id"]), number)
            for container in _containers(s["details"] or {}):  # a box of its own, found by its own key
                own = f"{container[:4]}{self.rng.randint(10**6, 10**7 - 1)}"
                details = Raw(details.replace(f'"number":{_js(container)}', f'"number":"{own}"'))
                if key_hash is not None:
                    self.pending_keys.append(key_hash("container", own))
        return {
            "kind": s["kind"], "source_id": s["source_id"], "owner_agency_id": s["owner_agency_id"],
            "external_id": f"{s['external_id'].partition(':')[0]}{MARK}{n:08d}", "version": 1, "status": "current",
            "title": title[:300], "port_id": s["port_id"] if s["kind"] != "trader" else None,
            "arrival_at": arrival if s["kind"] != "trader" else None, "facts": facts, "details": details,
            "received_at": received,
        }  # fmt: skip

    # --- one batch ---------------------------------------------------------------------------------

    def batch(self, first: int, count: int, pool_left: int) -> dict[str, int]:
        """Make and load ``count`` grown subjects numbered from ``first``; the first ``pool_left`` are the pool."""
        from apps.intake.bulk import bulk_insert_rows
        from apps.intake.models import Subject, SubjectKey, SubjectLink

        rng = self.rng
        plan: list[tuple[Template, dict[str, Any], bool, bool]] = []  # template, row, targeted, pool
        links: list[
            tuple[int, int, str, str]
        ] = []  # plan index from, plan index to / subject id, kind, reason
        keys: list[tuple[int, str]] = []
        n = first
        while len(plan) < count:
            in_pool = pool_left > 0
            kind = "pool" if in_pool else rng.choices(self.kinds, self.weights)[0]
            targeted = (
                not in_pool and kind in ("consignment", "traveller") and rng.random() < self.target_share
            )
            if in_pool:
                template_or_pair = rng.choice(self.pool_templates)
                pool_left -= 1
            elif kind == "traveller":
                group = self.targeted["pair"] if targeted and self.targeted["pair"] else self.groups["pair"]
                template_or_pair = rng.choice(group)
            else:
                group = self.targeted[kind] if targeted and self.targeted.get(kind) else self.groups[kind]
                template_or_pair = rng.choice(group)
            arrival, received = self._arrival(in_pool)
            members = _members(template_or_pair)
            person = self._person() if members[0].subject["kind"] == "traveller" else None
            start = len(plan)
            # One target per grown subject: on the record whose template was targeted (or the first).
            chosen = next((i for i, t in enumerate(members) if t.target), 0) if targeted else -1
            for i, t in enumerate(members):
                plan.append((t, self._subject_row(t, n, arrival, received, person), i == chosen, in_pool))
                keys.extend((len(plan) - 1, key) for key in self.pending_keys)
                self.pending_keys.clear()
                n += 1
            if len(members) == 2:
                links.append((start, start + 1, "same_person", template_or_pair[2]))
            if person is not None:  # one person's keys on both of his records
                for kind_of_key in members[0].key_kinds or ["doc", "namedob"]:
                    key = f"{kind_of_key}:{rng.getrandbits(128):032x}"
                    keys.extend((start + i, key) for i in range(len(members)))
            for i, t in enumerate(members):
                if t.subject["kind"] == "trader":
                    keys.append((start + i, f"trader:{rng.getrandbits(128):032x}"))
                for party_id, reason in t.parties:
                    links.append((start + i, -party_id, "party", reason))
        ids = copy_rows(Subject, [row for _, row, _, _ in plan])
        bulk_insert_rows(SubjectKey, [{"subject_id": ids[i], "key": key} for i, key in keys])
        bulk_insert_rows(
            SubjectLink,
            [
                {"from_subject_id": ids[a], "to_subject_id": ids[b] if b >= 0 else -b, "kind": kind, "reason": reason}
                for a, b, kind, reason in links
            ],
        )  # fmt: skip
        made = self._risk_and_targets(plan, ids)
        return {"subjects": len(ids), "keys": len(keys), "links": len(links), **made}

    def _risk_and_targets(self, plan: list[tuple[Template, dict[str, Any], bool, bool]], ids: list[int]) -> dict[str, int]:  # fmt: skip
        from apps.intake.bulk import bulk_insert_rows
        from apps.risk.models import Assessment, Hit
        from apps.targeting.models import Target, TargetShare

        rng = self.rng
        targets, target_of = [], {}  # plan index -> target row index
        for i, (t, row, targeted, _) in enumerate(plan):
            if not targeted or t.assessment is None or row["arrival_at"] is None:
                continue
            target_of[i] = len(targets)
            targets.append(self._target_row(t, row, ids[i]))
        target_ids = bulk_insert_rows(Target, [r for r, _, _ in targets])
        shares = [
            {"target_id": tid, "agency_id": self.people.customs, "code": "act", "shared_at": r["created_at"]}
            for tid, (r, _, _) in zip(target_ids, targets, strict=True)
            if r["owner_agency_id"] != self.people.customs
        ]
        bulk_insert_rows(TargetShare, shares)
        assessments, hits_of = [], []
        for i, (t, row, _, _) in enumerate(plan):
            if t.assessment is None:
                continue
            a = t.assessment
            target_index = target_of.get(i)
            a_text = t.text("explanation", a["explanation"])
            assessments.append(
                {
                    "subject_id": ids[i], "score": a["score"], "channel": "red" if target_index is not None else a["channel"],
                    "risk_area": a["risk_area"], "explanation": a_text, "random_control": a["random_control"],
                    "nominated": target_index is not None,
                    "target_id": target_ids[target_index] if target_index is not None else None,
                    "created_at": row["received_at"] + timedelta(minutes=rng.randint(1, 20)),
                }
            )  # fmt: skip
            hits_of.append(t)
        assessment_ids = copy_rows(Assessment, assessments)
        hits = [
            {
                **h,
                "matched": t.text(f"hit{k}", h["matched"]),
                "assessment_id": aid,
                "created_at": a["created_at"],
            }
            for aid, a, t in zip(assessment_ids, assessments, hits_of, strict=True)
            for k, h in enumerate(t.hits)
        ]
        copy_rows(Hit, hits)
        history = self._histories(target_ids, targets)
        return {"assessments": len(assessment_ids), "hits": len(hits), "targets": len(target_ids), **history}

    def _target_row(
        self, t: Template, row: dict[str, Any], subject_id: int
    ) -> tuple[dict[str, Any], list[str], dict[str, datetime]]:
        """A target with the reasons of a real one, in a state that fits its arrival, and when each
        move of its path was made (spread from its nomination to two hours after arrival, never later
        than now)."""
        rng = self.rng
        profile = t.target or rng.choice(self.groups["profiles"] or [{}]) or {}
        upcoming = row["arrival_at"] > self.now
        states = UPCOMING_STATES if upcoming else PAST_STATES
        state = rng.choices(list(states), list(states.values()))[0]
        path = PATHS[state]
        created = min(self.now, row["received_at"] + timedelta(minutes=rng.randint(2, 30)))
        end = min(self.now, row["arrival_at"] + timedelta(hours=2))
        span = max(timedelta(minutes=len(path)), end - created)
        at, moments = created, {}
        for k, step in enumerate(path):
            if k:
                at = at + span * (rng.uniform(0.5, 1.0) / len(path))
            moments[step] = at
        area = profile.get("risk_area") or (t.assessment or {}).get("risk_area") or "narcotics"
        return (
            {
                "subject_id": subject_id, "owner_agency_id": row["owner_agency_id"], "state": state,
                "version": len(path), "resume_state": "", "risk_area": area,
                "reasons": profile.get("reasons") or [{"kind": "rule", "text": "Rule matched", "ref": ""}],
                "priority": profile.get("priority") or 60, "score": profile.get("score"), "scope": "national",
                "port_id": row["port_id"], "arrival_at": row["arrival_at"], "by_engine": True,
                "random_control": bool(profile.get("random_control")), "created_at": created, "updated_at": at,
            },
            path,
            moments,
        )  # fmt: skip

    def _histories(
        self, target_ids: list[int], targets: list[tuple[dict[str, Any], list[str], dict[str, datetime]]]
    ) -> dict[str, int]:
        """Transitions (keyed; linked later), instructions, results with goods, outcomes and feedback."""
        from django.db import transaction

        from apps.frontline.models import ExaminationFeedback, ExaminationResult, SeizedGoods
        from apps.intake.bulk import bulk_insert_rows
        from apps.intake.models import Outcome
        from apps.targeting.models import Instruction, Transition

        rng, people = self.rng, self.people
        transitions, instructions, exams = [], [], []
        for tid, (t, path, moments) in zip(target_ids, targets, strict=True):
            officer = people.officer_by_port.get(t["port_id"], people.officer)
            actors = {"analyst": people.analyst, "supervisor": people.supervisor, "officer": officer}
            for k, state in enumerate(path):
                mover = actors.get(MOVER[state] or "")
                transitions.append(
                    {
                        "target_id": tid, "actor_id": mover, "actor_agency_id": people.customs if mover else None,
                        "from_state": path[k - 1] if k else "", "to_state": state, "version": k + 1,
                        "reason": "" if state != "rejected" else "Intelligence does not support an examination.",
                        "at": moments[state], "seq": None,
                    }
                )  # fmt: skip
            if "dispatched" in moments:
                instructions.append(
                    {
                        "target_id": tid, "port_id": t["port_id"], "method": rng.choice(METHODS),
                        "shift": rng.choice(["", "early", "late", "night"]),
                        "instruction": "Examine the goods against the declaration; look for concealment.",
                        "dispatched_by_id": people.supervisor, "dispatched_at": moments["dispatched"],
                    }
                )  # fmt: skip
                if "result_recorded" in moments:
                    exams.append((tid, t, len(instructions) - 1, moments, officer))
        with transaction.atomic():  # nobody seals these rows before they carry their key
            transition_ids = bulk_insert_rows(Transition, transitions)
            _key_rows(Transition, transition_ids)
        instruction_ids = bulk_insert_rows(Instruction, instructions)
        outcomes, results, kinds = [], [], []
        for tid, t, index, moments, officer in exams:
            roll = rng.random()
            outcome = "seizure" if roll < 0.18 else ("irregularity" if roll < 0.3 else "no_finding")
            started = moments["in_examination"]
            ended = min(moments["result_recorded"], started + timedelta(minutes=rng.randint(10, 90)))
            revenue = Decimal(rng.randint(200, 9000)) if outcome != "no_finding" else None
            outcomes.append(
                {
                    "subject_id": t["subject_id"], "origin": "examination", "finding": outcome != "no_finding",
                    "severity": {"seizure": 2, "irregularity": 1}.get(outcome, 0), "random_control": t["random_control"],
                    "revenue_at_stake": revenue, "recorded_at": moments["result_recorded"],
                }
            )  # fmt: skip
            results.append(
                {
                    "target_id": tid, "instruction_id": instruction_ids[index], "idempotency_key": uuid.uuid4(),
                    "method": instructions[index]["method"], "outcome": outcome, "started_at": started, "ended_at": ended,
                    "revenue_at_stake": revenue, "notes": "Examined as instructed.", "reason": "", "recorded_by_id": officer,
                    "recorded_by_agency_id": people.customs, "recorded_at": moments["result_recorded"],
                }
            )  # fmt: skip
            kinds.append(t)
        outcome_ids = bulk_insert_rows(Outcome, outcomes)
        for result, outcome_id in zip(results, outcome_ids, strict=True):
            result["outcome_record_id"] = outcome_id
        result_ids = bulk_insert_rows(ExaminationResult, results)
        goods, feedback = [], []
        for rid, r, t in zip(result_ids, results, kinds, strict=True):
            seized = Decimal(0)
            if r["outcome"] == "seizure":
                kind, unit = GOODS.get(t["risk_area"], ("other_drugs", "kg"))
                value = Decimal(rng.randint(500, 250_000))
                seized = value
                goods.append({"result_id": rid, "kind": kind, "description": "", "unit": unit,
                              "quantity": Decimal(rng.randint(1, 400)), "estimated_value": value})  # fmt: skip
            refs = [
                (x.get("kind"), x.get("ref"))
                for x in t["reasons"]
                if x.get("kind") in {"rule", "watchlist", "model"} and x.get("ref")
            ]
            if t["random_control"]:
                refs.append(("random", "random"))
            for kind, ref in dict.fromkeys(refs):
                feedback.append(
                    {
                        "examination_id": rid, "target_id": r["target_id"], "kind": kind, "ref": ref,
                        "outcome": r["outcome"], "finding": r["outcome"] != "no_finding",
                        "random_control": t["random_control"], "revenue_at_stake": r["revenue_at_stake"],
                        "seized_value": seized, "examined_at": r["ended_at"],
                    }
                )  # fmt: skip
        bulk_insert_rows(SeizedGoods, goods)
        bulk_insert_rows(ExaminationFeedback, feedback)
        return {
            "transitions": len(transition_ids),
            "instructions": len(instruction_ids),
            "results": len(result_ids),
        }


def name_pools() -> dict[str, tuple[list[str], list[str]]]:
    """Given names and surnames by origin, as passports' machine-readable zones spell them: the lists
    Faker ships for the origins of ``bench.assess_million`` (imported from there as data only: that
    module sets up the risk engine and the watchlists on import)."""
    import ast
    import importlib
    from pathlib import Path

    from anyascii import anyascii

    source = (Path(__file__).with_name("assess_million.py")).read_text(encoding="utf-8")
    origins = next(
        ast.literal_eval(node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and "ORIGINS"
        in [getattr(t, "id", "") for t in getattr(node, "targets", [getattr(node, "target", None)])]
    )
    fallback = importlib.import_module("faker.providers.person.en_GB").Provider.last_names
    pools = {}
    for origin in origins:
        provider = importlib.import_module(f"faker.providers.person.{origin}").Provider
        given = list(dict.fromkeys([*provider.first_names_male, *provider.first_names_female]))
        surnames = list(dict.fromkeys(provider.last_names))
        if len(surnames) < 50:  # some locales ship no surname list
            surnames = list(dict.fromkeys(fallback))
        pools[origin] = ([anyascii(x).upper() for x in given], [anyascii(x).upper() for x in surnames])
    return pools


def _members(t: Any) -> list[Template]:
    """The records of one grown subject: both of a traveller pair, or the one template."""
    return [t[0], t[1]] if isinstance(t, tuple) else [t]


def _containers(details: dict[str, Any]) -> list[str]:
    """The container numbers of a consignment's record (on it, and on its goods lines)."""
    groups = [details.get("containers") or []]
    groups += [g.get("containers") or [] for g in details.get("goods") or [] if isinstance(g, dict)]
    return sorted({c["number"] for group in groups for c in group if isinstance(c, dict) and c.get("number")})


def _js(value: Any) -> str:
    """A value as the template's JSON text has it (to find and replace it there)."""
    return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)


def _first(t: Any) -> Template:
    return _members(t)[0]


def _poolable(t: Any) -> bool:
    """A template the flow can nominate from: assessed, an active rule hit, no watchlist hit."""
    members = _members(t)
    return all(not m.watchlist_hit for m in members) and any(
        m.assessment and any(not h["shadow"] for h in m.hits) for m in members
    )


def _key_rows(model: Any, ids: list[int]) -> None:
    """Give bulk-loaded append-only rows their HMAC (as ``compliance.chain`` does on insert); the seal
    links them into the chain afterwards."""
    from apps.compliance import anchors

    if not ids:
        return
    key_id, key = anchors.current_key()
    rows = list(model._base_manager.filter(pk__in=ids))
    for row in rows:
        row.key_id = key_id
        row.mac = row.compute_mac(key)
    model._base_manager.bulk_update(rows, ["mac", "key_id"], batch_size=2000)


def grow(total: int, *, seed: int, target_share: float, pool: int, batch: int, say: Say) -> dict[str, int]:
    """Grow the world to ``total`` subjects (those there count), ``batch`` at a time."""
    import time

    from django.db import connection
    from django.utils import timezone

    from apps.compliance.chain import seal
    from apps.intake.models import Subject
    from apps.targeting.models import Transition

    have = Subject.objects.count()
    counts: dict[str, int] = {"before": have}
    if have >= total:
        say(f"{have:,} subjects already: nothing to grow")
        return counts
    groups = load_templates()
    say("templates: " + ", ".join(f"{k} {len(v)}" for k, v in groups.items()))
    if not any(groups[k] for k in ("pair", "consignment", "traveller")):
        raise SystemExit("No subjects to copy: the demo world and the simulator made none (see above).")
    # Seeded by what is there too: a second growth of one database makes other people and keys.
    grower = Grower(groups, seed=seed * 1_000_003 + have, target_share=target_share, now=timezone.now())
    started, made = time.monotonic(), 0
    left = total - have
    while made < left:
        size = min(batch, left - made)
        part = grower.batch(have + made, size, max(0, pool - made))
        made += part["subjects"]
        for k, v in part.items():
            counts[k] = counts.get(k, 0) + v
        rate = made / max(time.monotonic() - started, 1e-6)
        say(
            f"grown {made:,}/{left:,} subjects ({rate:,.0f}/s, about {(left - made) / max(rate, 1):,.0f} s left): "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "before")
        )
    say("linking the bulk-loaded transitions into the hash chain")
    seal(Transition, wait=True)
    with connection.cursor() as cursor:
        say(
            "VACUUM ANALYZE (autovacuum may be off here; a loaded table needs its statistics and visibility map)"
        )
        cursor.execute("VACUUM ANALYZE")
    counts["load_s"] = round(time.monotonic() - started)
    return counts
