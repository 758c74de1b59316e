"""Reading a scenario file: every problem reported at once, with the file, the line and the key."""

from __future__ import annotations

import string
from datetime import date
from pathlib import Path
from typing import Any

from apps.core.yamlfile import YamlSyntaxError, key_path, load_with_lines
from apps.simulator import world
from apps.training.scenario.script import (
    BACKGROUND_PORTS,
    EXPECTS,
    PARTNER_AGENCIES,
    RISK_AREAS,
    SCENARIO_DIR,
    SCRIPTED_PORTS,
    Answer,
    Arrival,
    Consignment,
    Scenario,
    ScenarioError,
    Traveller,
)


class _Checker:
    """Collects problems, each naming the file, the line and the key."""

    def __init__(self, name: str, lines: dict[str, int]) -> None:
        self.name, self.lines = name, lines
        self.problems: list[str] = []

    def fail(self, path: str, problem: str) -> None:
        line, parent = self.lines.get(path), path
        while line is None and parent:  # a missing key: the line of the mapping that should hold it
            parent = parent.rsplit(".", 1)[0] if "." in parent else ""
            line = self.lines.get(parent)
        self.problems.append(f"{self.name}, line {line or 1}: {path or '(top)'}: {problem}")

    def get(
        self, data: dict[str, Any], path: str, key: str, kind: type | tuple[type, ...], *,
        required: bool = True, default: Any = None, choices: tuple[Any, ...] | None = None,
        minimum: float | None = None, maximum: float | None = None,
    ) -> Any:  # fmt: skip
        where = f"{path}.{key}" if path else key
        if key not in data or data[key] is None:
            if required:
                self.fail(where, "is required")
            return default
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            words = {"str": "text", "float": "a number", "int": "a whole number", "bool": "true or false",
                     "list": "a list", "dict": "a mapping", "date": "a date (YYYY-MM-DD)"}  # fmt: skip
            self.fail(where, f"must be {words.get(names, names)}, not {value!r}")
            return default
        if choices is not None and value not in choices:
            self.fail(where, f"{value!r} is not one of {', '.join(map(str, choices))}")
            return default
        # A number here (kind is float or int); isinstance with a kind known only at run time says object.
        number: Any = value
        if minimum is not None and number < minimum:
            self.fail(where, f"must be at least {minimum:g}, not {value!r}")
            return default
        if maximum is not None and number > maximum:
            self.fail(where, f"must be at most {maximum:g}, not {value!r}")
            return default
        return value

    def unknown(self, data: dict[str, Any], path: str, known: set[str]) -> None:
        for key in data:
            if key not in known:
                self.fail(
                    f"{path}.{key}" if path else key, f"unknown key (known: {', '.join(sorted(known))})"
                )


def _folders() -> list[Path]:
    from django.conf import settings

    extra = getattr(settings, "RATC_TRAINING_SCENARIOS", "")
    return [SCENARIO_DIR, *([Path(extra)] if extra else [])]


def available() -> list[Path]:
    """The scenario files on offer: those that ship, then the centre's own (``RATC_TRAINING_SCENARIOS``)."""
    found: dict[str, Path] = {}
    for folder in _folders():
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return list(found.values())


def load(key: str) -> Scenario:
    """The scenario ``key`` (its file name without ``.yaml``); ScenarioError if absent or wrong."""
    valid = bool(key) and all(c in string.ascii_lowercase + string.digits + "_-" for c in key)
    path = next((p for p in available() if p.stem == key), None) if valid else None
    if path is None:
        raise ScenarioError(
            [f"{key}.yaml: no such scenario (there are: {', '.join(p.stem for p in available())})"]
        )
    return parse(path.read_text(encoding="utf-8"), name=path.name)


def parse(text: str, *, name: str = "scenario.yaml") -> Scenario:
    """Read and check a scenario; raises :class:`ScenarioError` listing every problem with its line."""
    try:
        data, located = load_with_lines(text)
    except YamlSyntaxError as exc:
        raise ScenarioError(
            [f"{name}, line {exc.line}: {'not valid YAML: ' if exc.syntax else ''}{exc.problem}"]
        ) from None
    lines = {key_path(loc): line for loc, line in located.items()}
    check = _Checker(name, lines)
    if not isinstance(data, dict):
        raise ScenarioError([f"{name}, line 1: (top): a scenario is a mapping of keys (title, briefing, …)"])
    check.unknown(
        data, "", {"title", "briefing", "seed", "speed", "duration_minutes", "rules", "model", "alerts",
                   "background", "arrivals"},
    )  # fmt: skip
    title = check.get(data, "", "title", str, default="")
    briefing = check.get(data, "", "briefing", str, default="")
    seed = check.get(data, "", "seed", int, required=False, default=2026)
    speed = check.get(data, "", "speed", float, required=False, default=60.0, minimum=1, maximum=3600)
    duration = check.get(data, "", "duration_minutes", float, required=False, default=240.0, minimum=1)
    rules = tuple(_rules(check, data))
    model = _model(check, data)
    alerts = tuple(_alerts(check, data))
    background = _background(check, data)
    arrivals = tuple(_arrivals(check, data))
    ids = [item.id for a in arrivals for item in a.items()] + [a.id for a in arrivals]
    for index, arrival in enumerate(arrivals):
        for i, item in enumerate(arrival.items()):
            if ids.count(item.id) > 1:
                kind = "consignments" if isinstance(item, Consignment) else "travellers"
                j = i if kind == "consignments" else i - len(arrival.consignments)
                check.fail(f"arrivals[{index}].{kind}[{j}].id", f"{item.id!r} is used more than once")
    if arrivals and not any(
        item.answer and item.answer.expect == "target" for a in arrivals for item in a.items()
    ):
        check.fail("arrivals", "no planted violation: at least one answer must expect 'target'")
    if check.problems:
        raise ScenarioError(check.problems)
    return Scenario(
        key=Path(name).stem, title=title, briefing=briefing, seed=seed, speed=speed, duration=duration,
        rules=rules, model=model, alerts=alerts, background=background, arrivals=arrivals, text=text,
    )  # fmt: skip


def _items(
    check: _Checker, data: dict[str, Any], key: str, path: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    where = f"{path}.{key}" if path else key
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.fail(where, "must be a list")
        return []
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            check.fail(f"{where}[{i}]", "must be a mapping of keys")
            continue
        out.append((f"{where}[{i}]", item))
    return out


def _rules(check: _Checker, data: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for path, raw in _items(check, data, "rules"):
        check.unknown(
            raw, path, {"name", "kind", "text", "risk_area", "weight", "ports", "rationale", "state"}
        )
        ports = check.get(raw, path, "ports", list, required=False, default=[])
        for i, port in enumerate(ports or []):
            if port not in BACKGROUND_PORTS:
                check.fail(
                    f"{path}.ports[{i}]",
                    f"{port!r} is not a port of the floor ({', '.join(BACKGROUND_PORTS)})",
                )
        rules.append({
            "name": check.get(raw, path, "name", str, default=""),
            "kind": check.get(raw, path, "kind", str, choices=("consignment", "traveller"), default="consignment"),
            "text": check.get(raw, path, "text", str, default=""),
            "risk_area": check.get(raw, path, "risk_area", str, choices=RISK_AREAS, default="narcotics"),
            "weight": check.get(raw, path, "weight", int, minimum=1, maximum=100, default=50),
            "ports": list(ports or []),
            "rationale": check.get(raw, path, "rationale", str, default=""),
            "state": check.get(raw, path, "state", str, required=False, choices=("active", "shadow"), default="active"),
        })  # fmt: skip
    return rules


def _model(check: _Checker, data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("model")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        check.fail("model", "must be a mapping (history_rows, blind_spot)")
        return {}
    check.unknown(raw, "model", {"history_rows", "blind_spot"})
    model = {
        "history_rows": check.get(raw, "model", "history_rows", int, minimum=0, maximum=50000, default=0),
        "blind_spot": check.get(raw, "model", "blind_spot", str, default=""),
    }
    return model


def _alerts(check: _Checker, data: dict[str, Any]) -> list[dict[str, Any]]:
    alerts = []
    for path, raw in _items(check, data, "alerts"):
        check.unknown(raw, path, {"id", "agency", "kind", "name", "date_of_birth", "documents", "remarks"})
        documents = check.get(raw, path, "documents", list, required=False, default=[])
        alerts.append({
            "id": check.get(raw, path, "id", str, default=""),
            "agency": check.get(raw, path, "agency", str, choices=PARTNER_AGENCIES, default="POL"),
            "kind": check.get(raw, path, "kind", str, choices=("person", "organisation"), default="person"),
            "name": check.get(raw, path, "name", str, default=""),
            "date_of_birth": check.get(raw, path, "date_of_birth", date, required=False, default=None),
            "documents": [str(d) for d in documents or []],
            "remarks": check.get(raw, path, "remarks", str, default=""),
        })  # fmt: skip
    return alerts


def _background(check: _Checker, data: dict[str, Any]) -> dict[str, int]:
    raw = data.get("background")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        check.fail("background", "must be a mapping of port to a number of arrivals")
        return {}
    out = {}
    for port in raw:
        if port not in BACKGROUND_PORTS:
            check.fail(
                f"background.{port}", f"{port!r} is not a port of the floor ({', '.join(BACKGROUND_PORTS)})"
            )
            continue
        out[port] = check.get(raw, "background", port, int, minimum=0, maximum=20, default=0)
    return out


def _answer(check: _Checker, raw: dict[str, Any], path: str) -> Answer | None:
    answer = check.get(raw, path, "answer", dict, required=False, default=None)
    if answer is None:
        return None
    where = f"{path}.answer"
    check.unknown(answer, where, {"expect", "risk_area", "finding", "blind_spot", "hold"})
    expect = check.get(answer, where, "expect", str, choices=EXPECTS, default="target")
    hold = check.get(answer, where, "hold", dict, required=False, default={}) or {}
    if hold:
        check.unknown(hold, f"{where}.hold", {"agency", "reason"})
        hold = {
            "agency": check.get(
                hold, f"{where}.hold", "agency", str, choices=PARTNER_AGENCIES, default="POL"
            ),
            "reason": check.get(hold, f"{where}.hold", "reason", str, default=""),
        }
    if (expect == "leave") != bool(hold):
        check.fail(f"{where}.expect", "'leave' goes with a hold, and a hold with 'leave'")
    return Answer(
        expect=expect,
        risk_area=check.get(answer, where, "risk_area", str, required=expect != "release", choices=RISK_AREAS, default=""),
        finding=check.get(answer, where, "finding", str, required=expect != "release", default=""),
        blind_spot=check.get(answer, where, "blind_spot", bool, required=False, default=False),
        hold=hold,
    )  # fmt: skip


def _consignment(check: _Checker, raw: dict[str, Any], path: str) -> Consignment:
    check.unknown(
        raw,
        path,
        {"id", "hs_code", "description", "origin", "net_mass_kg", "value", "importer", "consignor", "answer"},
    )
    importer = check.get(raw, path, "importer", dict, default={}) or {}
    eori = check.get(importer, f"{path}.importer", "id", str, default="GB000000000000") if importer else ""
    if eori and not (eori[:2].isalpha() and eori[2:].isdigit() and len(eori) >= 8):
        check.fail(f"{path}.importer.id", f"{eori!r} is not an EORI (two letters, then digits)")
    hs = check.get(raw, path, "hs_code", (str, int), default="0000000000")
    hs = str(hs)
    if not (hs.isdigit() and len(hs) in (6, 8, 10)):
        check.fail(f"{path}.hs_code", f"{hs!r} is not an HS code (6, 8 or 10 digits, quoted)")
    origin = check.get(raw, path, "origin", str, default="XX")
    if not (len(origin) == 2 and origin.isalpha() and origin.isupper()):
        check.fail(f"{path}.origin", f"{origin!r} is not a two-letter country code")
    return Consignment(
        id=check.get(raw, path, "id", str, default=""),
        hs_code=hs,
        description=check.get(raw, path, "description", str, default=""),
        origin=origin,
        net_mass_kg=check.get(raw, path, "net_mass_kg", float, minimum=0.1, default=1.0),
        value=check.get(raw, path, "value", float, minimum=0.01, default=1.0),
        importer=(eori, check.get(importer, f"{path}.importer", "name", str, default="") if importer else ""),
        answer=_answer(check, raw, path),
        consignor=check.get(raw, path, "consignor", str, required=False, default=""),
    )


def _traveller(check: _Checker, raw: dict[str, Any], path: str) -> Traveller:
    check.unknown(raw, path, {"id", "surname", "given", "sex", "born", "nationality", "document",
                              "booked_days_before", "payment", "bags", "answer"})  # fmt: skip
    nationality = check.get(raw, path, "nationality", str, default="GBR")
    if not (len(nationality) == 3 and nationality.isalpha() and nationality.isupper()):
        check.fail(f"{path}.nationality", f"{nationality!r} is not a three-letter country code (ISO alpha-3)")
    document = str(check.get(raw, path, "document", (str, int), default="X0000000"))
    if not (document.isalnum() and len(document) >= 6):
        check.fail(
            f"{path}.document", f"{document!r} is not a document number (6 or more letters and digits)"
        )
    return Traveller(
        id=check.get(raw, path, "id", str, default=""),
        surname=check.get(raw, path, "surname", str, default="").upper(),
        given=check.get(raw, path, "given", str, default="").upper(),
        sex=check.get(raw, path, "sex", str, choices=("M", "F"), default="M"),
        born=check.get(raw, path, "born", date, default=date(1990, 1, 1)),
        nationality=nationality,
        document=document,
        booked_days_before=check.get(
            raw, path, "booked_days_before", int, minimum=0, maximum=365, default=30
        ),
        payment=check.get(raw, path, "payment", str, choices=("cash", "card"), default="card"),
        bags=check.get(raw, path, "bags", int, required=False, minimum=0, maximum=9, default=1),
        answer=_answer(check, raw, path),
    )


def _arrivals(check: _Checker, data: dict[str, Any]) -> list[Arrival]:
    arrivals = []
    if "arrivals" not in data:
        check.fail("arrivals", "is required (the scripted arrivals with the planted subjects)")
    for path, raw in _items(check, data, "arrivals"):
        check.unknown(raw, path, {"id", "at", "port", "arrives_after", "vessel", "truck", "flight",
                                  "consignments", "travellers", "passengers"})  # fmt: skip
        port = check.get(raw, path, "port", str, choices=tuple(SCRIPTED_PORTS), default="GBFXT")
        mode = SCRIPTED_PORTS.get(port, "sea")
        vessel = ""
        truck: dict[str, Any] = {}
        flight: dict[str, Any] = {}
        if mode == "sea":
            vessel = str(check.get(raw, path, "vessel", (str, int), default=world.VESSELS[0][0]))
            if vessel not in {v[0] for v in world.VESSELS}:
                known = ", ".join(f"{v[0]} ({v[1]})" for v in world.VESSELS)
                check.fail(f"{path}.vessel", f"{vessel!r} is not a vessel of the simulated world: {known}")
        elif mode == "road":
            truck = check.get(raw, path, "truck", dict, default={}) or {}
            country = truck.get("country")
            if truck and country not in world.HAULIER_COUNTRIES:
                check.fail(
                    f"{path}.truck.country", f"{country!r} is not one of {', '.join(world.HAULIER_COUNTRIES)}"
                )
        else:
            flight = check.get(raw, path, "flight", dict, default={}) or {}
            if flight:
                check.unknown(flight, f"{path}.flight", {"carrier", "number", "origin"})
                for key in ("carrier", "number", "origin"):
                    check.get(flight, f"{path}.flight", key, (str, int))
                flight = {k: str(v) for k, v in flight.items()}
                if flight.get("origin") and flight["origin"] not in world.AIRPORTS:
                    check.fail(
                        f"{path}.flight.origin",
                        f"{flight['origin']!r} is not one of {', '.join(world.AIRPORTS)}",
                    )
        consignments = [_consignment(check, c, p) for p, c in _items(check, raw, "consignments", path)]
        travellers = [_traveller(check, t, p) for p, t in _items(check, raw, "travellers", path)]
        if mode == "air" and consignments:
            check.fail(
                f"{path}.consignments", "a flight carries travellers here; script cargo by sea or road"
            )
        if mode != "air" and travellers:
            check.fail(f"{path}.travellers", "travellers arrive by air in a scenario (GBLHR or GBMNC)")
        if not consignments and not travellers:
            check.fail(path, "an arrival needs consignments (sea, road) or travellers (air)")
        arrivals.append(Arrival(
            id=check.get(raw, path, "id", str, default=""),
            at=check.get(raw, path, "at", float, minimum=0, default=0.0),
            port=port,
            arrives_after=check.get(raw, path, "arrives_after", float, required=False, minimum=10,
                                    default=240.0 if mode == "sea" else 120.0),
            vessel=vessel, truck=truck, flight=flight,
            consignments=tuple(consignments), travellers=tuple(travellers),
            passengers=check.get(raw, path, "passengers", int, required=False, minimum=0, maximum=40, default=0),
        ))  # fmt: skip
    return arrivals
