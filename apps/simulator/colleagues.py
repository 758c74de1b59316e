"""The simulated colleagues: named accounts of their own, never the demo accounts a visitor signs in with.

A visitor signed in as ``analyst`` must find in "My work" only what they claimed themselves, and a
history line "approved by Tom Brennan" must not be a step the visitor never took. So the simulator works
the floor as colleagues of the same agency (customs) with their own names and roles, one frontline
officer per port, and none of them can sign in (no usable password): they exist to be seen at work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.agencies.roles import Role

#: Every simulated account's username starts with this, so they are told apart at a glance.
PREFIX = "sim."


@dataclass(frozen=True, slots=True)
class Colleague:
    username: str
    first_name: str
    last_name: str
    role: str
    title: str
    ports: tuple[str, ...] = ()


ANALYSTS = (
    Colleague("sim.analyst.okoro", "Femi", "Okoro", Role.ANALYST, "Targeting analyst, national centre (simulated)"),
    Colleague("sim.analyst.lindqvist", "Elin", "Lindqvist", Role.ANALYST, "Targeting analyst, national centre (simulated)"),
)  # fmt: skip
SUPERVISOR = Colleague(
    "sim.supervisor.haddad", "Karim", "Haddad", Role.SUPERVISOR, "Duty manager, national centre (simulated)"
)
RISK_MANAGER = Colleague(
    "sim.riskmanager.vidal",
    "Marta",
    "Vidal",
    Role.RISK_MANAGER,
    "Risk manager, rules and profiles (simulated)",
)
#: One frontline officer per demo port: they begin and record the examinations the simulator makes.
OFFICERS = (
    Colleague("sim.officer.felixstowe", "Gareth", "Price", Role.FRONTLINE, "Officer, Felixstowe (simulated)", ("GBFXT",)),
    Colleague("sim.officer.heathrow", "Anjali", "Mehta", Role.FRONTLINE, "Officer, Heathrow (simulated)", ("GBLHR",)),
    Colleague("sim.officer.manchester", "Tomasz", "Wojcik", Role.FRONTLINE, "Officer, Manchester airport (simulated)", ("GBMNC",)),
    Colleague("sim.officer.dover", "Claire", "Dubois", Role.FRONTLINE, "Officer, Dover (simulated)", ("GBDVR",)),
    Colleague("sim.officer.coventry", "Samuel", "Boateng", Role.FRONTLINE, "Officer, Coventry mail centre (simulated)", ("GBCOV",)),
)  # fmt: skip
COLLEAGUES: tuple[Colleague, ...] = (*ANALYSTS, SUPERVISOR, RISK_MANAGER, *OFFICERS)
AGENCY = "CUS"


def ensure_colleagues() -> str:
    """Create the simulated colleagues that are missing (customs members; they cannot sign in)."""
    from apps.agencies.models import Agency, Membership, Port

    agency = Agency.objects.filter(code=AGENCY).first()
    if agency is None:
        return f"no {AGENCY} agency: run demo_world first"
    User = get_user_model()
    made = 0
    ports = {p.locode: p for p in Port.objects.all()}
    for spec in COLLEAGUES:
        with transaction.atomic():
            user, new = User.objects.get_or_create(
                username=spec.username,
                defaults={
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "email": f"{spec.username}@ratc.invalid",
                },
            )
            if new:
                user.set_unusable_password()  # seen at work, never signed in as
                user.save(update_fields=["password"])
                made += 1
            membership, _ = Membership.objects.get_or_create(
                user=user, defaults={"agency": agency, "role": spec.role, "title": spec.title}
            )
            if spec.ports:
                membership.ports.set([ports[p] for p in spec.ports if p in ports])
    return f"simulated colleagues: +{made} of {len(COLLEAGUES)}"


def account(spec: Colleague) -> Any:
    """The colleague's active account, or None before :func:`ensure_colleagues` ran."""
    return get_user_model().objects.filter(username=spec.username, is_active=True).first()
