"""First start of the demo floor: the simulated colleagues, rules, a watchlist, history and a model,
officers for every port, and aged passenger data to mask.

Each step goes through the owning app's services (as the demo risk manager, or as the system), is
idempotent (it looks for what it made before) and is guarded: a capability that is not installed yet is
skipped with one clear log line, and the simulator runs without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.simulator import colleagues, world

log = logging.getLogger("apps.simulator")

#: The demo rules are written by the simulated risk manager, not by the visitor's ``riskmanager``.
RULE_OWNER = colleagues.RISK_MANAGER.username
WATCHLIST_NAME = "UN Security Council consolidated list"
HISTORY_FILE = "declarations/df_syn_train_eng.csv"
HISTORY_SOURCE = "Import declarations"
HISTORY_REASON = "Historic declaration loaded to train the risk model: not an arrival."
AGED_REASON = "Passenger data of a past flight, kept for the demo's retention rules: not an arrival."

#: Demo sign-ins for the ports the demo world has no officer for, so every port's tablet can be tried
#: (the simulator's own officers are :data:`apps.simulator.colleagues.OFFICERS`).
EXTRA_OFFICERS = [
    ("officer.manchester", "Amira", "Haddad", "Officer, Manchester airport", "GBMNC"),
    ("officer.coventry", "Owen", "Pritchard", "Officer, Coventry mail centre", "GBCOV"),
]


@dataclass(frozen=True, slots=True)
class DemoRule:
    """A rule the demo starts with; ``state`` is where it ends up (shadow or active)."""

    name: str
    kind: str
    text: str
    risk_area: str
    weight: int
    ports: tuple[str, ...]
    rationale: str
    state: str = "active"


SOURCES = ", ".join(f'"{a}"' for a in world.SOURCE_AIRPORTS)
WATCHED = ", ".join(f'"{i}"' for i, _ in world.WATCHED_IMPORTERS)
DEMO_RULES: tuple[DemoRule, ...] = (
    DemoRule(
        "Courier profile: cash, short notice, source route", "traveller",
        f"paid_cash = true and booking_to_departure_hours < 72 and origin_airport in ({SOURCES})",
        "narcotics", 70, (),
        "Cocaine couriers from South America book one-way, days before departure, and pay cash "
        "(seizure analysis of the last two years; 40 % of such travellers examined carried drugs).",
    ),
    DemoRule(
        "Fruit and coffee far below market value from the Andean route", "consignment",
        'origin_country in ("CO", "EC", "PE") and ((hs_code prefix "0803" and value_per_kg < 0.5) '
        'or (hs_code prefix "0901" and value_per_kg < 2))',
        "narcotics", 65, ("GBFXT",),
        "Reefer loads of bananas and coffee are the commonest cover for cocaine; a price far under the "
        "market means the consignor does not live from the fruit.",
    ),
    DemoRule(
        "Importers under investigation for undervaluation", "consignment",
        f"importer_id in ({WATCHED})", "revenue", 60, (),
        "Post-clearance audit found invoices at 30-50 % of the value of footwear and clothing; every "
        "import of these two traders is checked until the investigation closes.",
    ),
    DemoRule(
        "Fresh produce part-loads from Spain and Morocco (ro-ro)", "consignment",
        'hs_code prefix ("0702", "0709", "0805") and origin_country in ("ES", "MA") and net_mass_kg < 4000',
        "narcotics", 60, ("GBDVR",),
        "Light part-loads of fresh produce are uneconomic on their own and a known cover load for cannabis.",
    ),
    DemoRule(
        "Counterfeit trainers by post (trial)", "consignment",
        'hs_code prefix ("6403", "6404") and origin_country in ("CN", "HK")', "ipr", 50, ("GBCOV",),
        "Brand holders report a wave of fake trainers in small parcels; running in shadow to measure it.",
        state="shadow",
    ),
    DemoRule(
        "Travel document about to expire", "traveller", "document_expires_in_days < 30", "immigration", 30, (),
        "A document that expires within a month of arrival warrants a documentary check (yellow channel).",
    ),
)  # fmt: skip


def shared_data() -> Path:
    """The shared public data folder (``settings.SHARED_DATA_DIR``, from ``RATC_SHARED_DATA``)."""
    configured = getattr(settings, "SHARED_DATA_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR).parent / "shared" / "data"


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username, is_active=True).first()


def ensure_officers() -> str:
    """Frontline officers for Manchester and Coventry (the demo world has officers for three ports)."""
    from apps.agencies.models import Agency, Membership, Port
    from apps.agencies.roles import Role
    from apps.core.demo import DEMO_PASSWORD

    made = 0
    customs = Agency.objects.filter(code="CUS").first()
    if customs is None:
        return "no CUS agency: run demo_world first"
    User = get_user_model()
    for username, first, last, title, locode in EXTRA_OFFICERS:
        port = Port.objects.filter(locode=locode).first()
        if port is None:
            continue
        with transaction.atomic():
            user, new = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@ratc.invalid"},
            )
            if new:
                user.set_password(DEMO_PASSWORD)
                user.save()
                made += 1
            membership, _ = Membership.objects.get_or_create(
                user=user, defaults={"agency": customs, "role": Role.FRONTLINE, "title": title}
            )
            membership.ports.add(port)
    return f"officers: +{made}"


def ensure_rules() -> str:
    """The demo rules, created, run in shadow and (most) activated through the risk services."""
    from apps.risk.models import Rule, RuleState
    from apps.risk.services import activate_rule, create_rule, publish_rule_to_shadow

    actor = _user(RULE_OWNER)
    if actor is None:
        return f"no {RULE_OWNER} user: run demo_world first"
    made = 0
    for spec in DEMO_RULES:
        rule = Rule.objects.filter(name=spec.name).first()
        if rule is None:
            rule = create_rule(
                actor=actor, name=spec.name, text=spec.text, subject_kind=spec.kind, risk_area=spec.risk_area,
                weight=spec.weight, ports=list(spec.ports), rationale=spec.rationale,
                note="Demo floor: first version",
            )  # fmt: skip
            made += 1
        if rule.state == RuleState.DRAFT:
            publish_rule_to_shadow(actor=actor, rule=rule, reason="Demo floor: trial in shadow")
        if spec.state == RuleState.ACTIVE and rule.state == RuleState.SHADOW:
            activate_rule(actor=actor, rule=rule, reason="Demo floor: shadow results reviewed")
    return f"rules: +{made} of {len(DEMO_RULES)}"


def ensure_watchlist() -> str:
    """The UN consolidated list, imported into a customs watchlist through the watchlist service."""
    from apps.agencies.models import Agency
    from apps.watchlists.models import Watchlist
    from apps.watchlists.services import create_watchlist, import_path

    path = shared_data() / "watchlists" / "un_consolidated.xml"
    if not path.exists():
        return f"no UN list at {path}: watchlist skipped"
    watchlist = Watchlist.objects.filter(name=WATCHLIST_NAME).first()
    if watchlist is not None and watchlist.entries.exists():
        return "watchlist: present"
    if watchlist is None:
        watchlist = create_watchlist(
            actor=None,
            owner_agency=Agency.objects.get(code="CUS"),
            name=WATCHLIST_NAME,
            description="Sanctions list of the UN Security Council, screened against every traveller and trader.",
            risk_area="security",
            weight=90,
        )
    run = import_path(actor=None, watchlist=watchlist, fmt="un", path=path)
    return f"watchlist: {run.counts.get('added', 0)} entries ({run.status})"


def ensure_history_and_model(rows: int) -> str:
    """Labelled history from the shared declarations through the real intake, then a trained model."""
    from apps.intake.models import DataSource, Message
    from apps.intake.services import parse_payload, store_messages
    from apps.learning.models import ModelVersion
    from apps.learning.services import train_now

    source = DataSource.objects.filter(name=HISTORY_SOURCE).first()
    path = shared_data() / HISTORY_FILE
    if source is None or not path.exists() or rows <= 0:
        return "history: no source, no shared declarations or no rows asked for: model skipped"
    if not Message.objects.filter(source=source, file_name__startswith="history:").exists():
        with path.open(encoding="utf-8-sig") as handle:
            lines = [next(handle) for _ in range(rows + 1)]
        for start in range(1, len(lines), 1000):
            chunk = (lines[0] + "".join(lines[start : start + 1000])).encode()
            result = parse_payload(chunk, name=f"history:{path.name}", fmt="declarations-csv")
            store_messages(source=source, parsed=[(m, f"history:{path.name}") for m in result.messages])
        withdraw_historic_targets()
    if ModelVersion.objects.filter(owner_agency_id=source.owner_agency_id).exists():
        return "model: present"
    run = train_now(actor=None, sources=[source], activate=True)
    version = run.model_version
    if version is None:  # the run was claimed by another process, which trains the model
        return "model: being trained elsewhere"
    return f"model: {version} trained on {version.data_summary.get('rows')} declarations"


def withdraw_historic_targets(reason: str = HISTORY_REASON) -> int:
    """Targets the engine nominated on history (arrived long ago) are withdrawn: they are not arrivals.

    A simulated analyst withdraws them; with none yet (set-up not run), nothing is withdrawn.
    """
    from apps.targeting.models import Target, TargetState
    from apps.targeting.services import StaleChange, withdraw_target

    actor = colleagues.account(colleagues.ANALYSTS[0])
    if actor is None:
        return 0
    cutoff = timezone.now() - timedelta(days=2)
    done = 0
    for target in Target.objects.filter(
        state__in=[TargetState.NOMINATED, TargetState.IN_REVIEW, TargetState.AWAITING_APPROVAL],
        arrival_at__lt=cutoff,
        random_control=False,  # a random draw is never withdrawn: the missed-marking task ends it
    ).select_related("port")[:500]:
        try:
            withdraw_target(actor=actor, target=target, reason=reason)
            done += 1
        except StaleChange:
            continue
        except Exception as exc:
            log.info("could not withdraw historic target %s: %s", target.pk, exc)
    return done


def ensure_aged_passengers() -> str:
    """Passenger data (API and PNR) of flights long past, old enough to be depersonalised."""
    from apps.simulator.aged import ensure_aged_passengers as ensure

    return ensure()


STEPS: tuple[tuple[str, Callable[..., str]], ...] = (
    ("colleagues", colleagues.ensure_colleagues),
    ("officers", ensure_officers),
    ("rules", ensure_rules),
    ("watchlist", ensure_watchlist),
    ("model", ensure_history_and_model),
    ("aged", ensure_aged_passengers),
)


def ensure_setup(*, history_rows: int = 3000, steps: tuple[str, ...] | None = None) -> dict[str, str]:
    """Run the first-start steps that are not done yet; each logs one line and never stops the others."""
    from apps.simulator.models import SimState

    state = SimState.objects.order_by("pk").first() or SimState.objects.create()
    done = dict(state.setup_done)
    report: dict[str, str] = {}
    for name, step in STEPS:
        if steps is not None and name not in steps:
            continue
        if name in done:
            report[name] = "done before"
            continue
        try:
            message = step(history_rows) if name == "model" else step()
        except ImportError as exc:
            message = f"skipped: {exc.name or exc} is not installed yet"
            log.warning("Simulator set-up: %s %s", name, message)
            report[name] = message
            continue
        except Exception as exc:
            log.exception("Simulator set-up: %s failed", name)
            report[name] = f"failed: {type(exc).__name__}: {exc}"
            continue
        log.info("Simulator set-up: %s — %s", name, message)
        report[name] = message
        done[name] = timezone.now().isoformat()
    SimState.objects.filter(pk=state.pk).update(setup_done=done)
    return report
