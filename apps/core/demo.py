"""The demo world: a customs administration with a national centre, five ports and partner agencies.

``ensure_demo_world()`` is idempotent: it creates what is missing and leaves what exists, so a second
``make demo`` reuses the same database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.agencies.models import (
    Agency,
    AgencyKind,
    CentreConfiguration,
    Membership,
    OperatingModel,
    Port,
    PortCapacity,
    Shift,
    TransportMode,
)
from apps.agencies.roles import Role
from apps.intake.models import DataSource, SourceKind

DEMO_PASSWORD = "floor-demo-2026"  # noqa: S105 (documented demo credential, demo mode only)
#: The integrator's API token in the demo, documented like the password; stored hashed like any token.
DEMO_API_TOKEN = "ratc_demo-integrator-floor-2026"  # noqa: S105 (documented demo credential, demo mode only)

AGENCIES = [
    ("CUS", "Customs Administration", AgencyKind.CUSTOMS),
    ("POL", "National Police", AgencyKind.POLICE),
    ("IMM", "Immigration Service", AgencyKind.IMMIGRATION),
    ("BIO", "Biosecurity Authority", AgencyKind.BIOSECURITY),
    ("CG", "Coast Guard", AgencyKind.COAST_GUARD),
]

# locode, name, mode, IATA code, {(shift, method): slots}
PORTS = [
    ("GBFXT", "Felixstowe container port", TransportMode.SEA, "", {"scan": 24, "physical": 10, "dog": 6, "documents": 40}),
    ("GBLHR", "London Heathrow airport", TransportMode.AIR, "LHR", {"interview": 30, "physical": 12, "dog": 8, "documents": 50}),
    ("GBMNC", "Manchester airport", TransportMode.AIR, "MAN", {"interview": 12, "physical": 6, "dog": 4, "documents": 20}),
    ("GBDVR", "Dover roll-on roll-off", TransportMode.LAND, "", {"scan": 20, "physical": 8, "dog": 6, "documents": 30}),
    ("GBCOV", "Coventry international mail centre", TransportMode.POSTAL, "", {"scan": 60, "physical": 15, "documents": 80}),
]  # fmt: skip

SHIFT_FACTOR = {Shift.EARLY: 1.0, Shift.LATE: 1.0, Shift.NIGHT: 0.5}


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    agency: str
    role: str
    title: str
    ports: tuple[str, ...] = ()


DEMO_USERS = [
    DemoUser("analyst", "Sara", "Okafor", "CUS", Role.ANALYST, "Targeting analyst, national centre"),
    DemoUser("supervisor", "Tom", "Brennan", "CUS", Role.SUPERVISOR, "Duty manager, national centre"),
    DemoUser("riskmanager", "Priya", "Raman", "CUS", Role.RISK_MANAGER, "Risk manager"),
    DemoUser("manager", "Helen", "Achterberg", "CUS", Role.MANAGER, "Head of targeting"),
    DemoUser("auditor", "Jonas", "Lind", "CUS", Role.AUDITOR, "Data protection officer"),
    DemoUser("admin", "Alex", "Morgan", "CUS", Role.ADMINISTRATOR, "System administrator"),
    DemoUser(
        "supervisor.felixstowe", "Ruth", "Adebayo", "CUS", Role.SUPERVISOR, "Port duty manager", ("GBFXT",)
    ),
    DemoUser("officer.felixstowe", "Dan", "Hughes", "CUS", Role.FRONTLINE, "Officer, Felixstowe", ("GBFXT",)),
    DemoUser("officer.heathrow", "Maya", "Chen", "CUS", Role.FRONTLINE, "Officer, Heathrow", ("GBLHR",)),
    DemoUser("officer.dover", "Luke", "Fraser", "CUS", Role.FRONTLINE, "Officer, Dover", ("GBDVR",)),
    DemoUser("police.liaison", "Rachel", "Adeyemi", "POL", Role.LIAISON, "Police liaison officer"),
    DemoUser("immigration.liaison", "Marek", "Nowak", "IMM", Role.LIAISON, "Immigration liaison officer"),
    DemoUser("biosecurity.liaison", "Ines", "Duarte", "BIO", Role.LIAISON, "Biosecurity liaison officer"),
    DemoUser("integrator", "Port", "System", "CUS", Role.SYSTEM, "Port community system (API)", ("GBFXT",)),
]

SOURCES = [
    ("Import declarations", SourceKind.DECLARATION, "CUS", "Customs code, art. 46 (risk management)", 5 * 365, 5 * 365, True, []),
    ("Air cargo manifests", SourceKind.CARGO_MANIFEST, "CUS", "Customs code, art. 127 (entry summary)", 5 * 365, 5 * 365, True, ["POL"]),
    ("Trader register", SourceKind.TRADER_REGISTER, "CUS", "Customs code, art. 9 (registration of operators)", 10 * 365, 10 * 365, True, ["POL", "BIO"]),
    ("API — all carriers", SourceKind.API, "IMM", "API directive 2004/82 and national immigration law", 5 * 365, 182, True, ["CUS", "POL"]),
    ("PNR — passenger information unit", SourceKind.PNR, "CUS", "PNR directive 2016/681; self-learning models excluded (CJEU C-817/19)", 5 * 365, 182, False, ["POL"]),
    ("Police lookouts", SourceKind.ENFORCEMENT, "POL", "Police data act, sharing under a joint-targeting agreement", 3 * 365, 3 * 365, False, []),
]  # fmt: skip


@transaction.atomic
def ensure_demo_world() -> dict[str, int]:
    """Create the demo agencies, ports, capacities, people and sources that are not there yet."""
    created = {"agencies": 0, "ports": 0, "users": 0, "sources": 0}
    agencies: dict[str, Agency] = {}
    for code, name, kind in AGENCIES:
        agencies[code], new = Agency.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "country": "GB"}
        )
        created["agencies"] += new
    ports: dict[str, Port] = {}
    for locode, name, mode, iata, methods in PORTS:
        ports[locode], new = Port.objects.get_or_create(
            locode=locode,
            defaults={"name": name, "mode": mode, "iata_code": iata, "timezone": "Europe/London"},
        )
        created["ports"] += new
        for shift, factor in SHIFT_FACTOR.items():
            for method, slots in methods.items():
                PortCapacity.objects.get_or_create(
                    port=ports[locode],
                    shift=shift,
                    method=method,
                    defaults={"slots": max(1, int(slots * factor))},
                )
    config = CentreConfiguration.current()
    if config.national_agency_id is None:
        config.national_agency = agencies["CUS"]
        config.operating_model = config.operating_model or OperatingModel.CENTRALISED
        config.save()

    User = get_user_model()
    for spec in DEMO_USERS:
        user, new = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@ratc.invalid",
            },
        )
        if new:
            user.set_password(DEMO_PASSWORD)
            if spec.role == Role.ADMINISTRATOR:
                # An agency's administrator, not the installation's root: the admin shows him only what
                # customs may see (apps.core.admin). Superusers are made with ``createsuperuser``.
                user.is_staff = True
            user.save()
            if spec.role == Role.ADMINISTRATOR:
                from django.contrib.auth.models import Permission

                user.user_permissions.set(Permission.objects.all())
            created["users"] += 1
        membership, _ = Membership.objects.get_or_create(
            user=user, defaults={"agency": agencies[spec.agency], "role": spec.role, "title": spec.title}
        )
        if spec.ports:
            membership.ports.set([ports[p] for p in spec.ports])
        if spec.role == Role.SYSTEM:
            ensure_demo_token(user)

    from guardian.shortcuts import assign_perm

    for name, kind, owner, basis, retention, mask, learning, shared in SOURCES:
        source, new = DataSource.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "owner_agency": agencies[owner],
                "legal_basis": basis,
                "retention_days": retention,
                "depersonalise_after_days": mask,
                "allows_self_learning": learning,
            },
        )
        created["sources"] += new
        if new:
            for code in shared:
                assign_perm("intake.view_datasource", agencies[code].group, source)
    return created


def ensure_demo_token(user) -> None:
    """The integrator's documented token (``DEMO_API_TOKEN``), made once; a revoked one stays revoked."""
    from apps.agencies import tokens
    from apps.agencies.models import ApiToken

    if ApiToken.objects.filter(digest=tokens.digest_of(DEMO_API_TOKEN)).exists():
        return
    name = "demo" if not ApiToken.objects.filter(user=user, name="demo").exists() else "demo (again)"
    tokens.issue(
        user=user, name=name, lifetime=tokens.MAX_LIFETIME - timedelta(days=1), secret=DEMO_API_TOKEN
    )


def demo_user_rows() -> list[dict[str, str]]:
    """The demo users that exist, for the login page of a demo installation."""
    existing = set(
        get_user_model()
        .objects.filter(username__in=[u.username for u in DEMO_USERS])
        .values_list("username", flat=True)
    )
    role_labels = dict(Role.choices)
    return [
        {"username": u.username, "role": role_labels[u.role], "agency": u.agency}
        for u in DEMO_USERS
        if u.username in existing
    ]
