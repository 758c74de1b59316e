"""The demo world: a customs administration with a national centre, five ports and partner agencies.

``ensure_demo_world()`` is idempotent: it creates what is missing and leaves what exists, so a second
``make demo`` reuses the same database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from apps.agencies.centre import read_centre_file, setup_centre
from apps.agencies.roles import Role

DEMO_PASSWORD = "floor-demo-2026"  # noqa: S105 (documented demo credential, demo mode only)
#: The integrator's API token in the demo, documented like the password; stored hashed like any token.
DEMO_API_TOKEN = "ratc_demo-integrator-floor-2026"  # noqa: S105 (documented demo credential, demo mode only)

#: The demo world is the example centre file: what a new centre copies is what the demo shows.
DEMO_CENTRE_FILE = Path(settings.BASE_DIR) / "centre.example.yaml"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    agency: str
    role: str
    title: str
    ports: tuple[str, ...] = ()


@cache
def _demo_users() -> tuple[DemoUser, ...]:
    spec, _ = read_centre_file(DEMO_CENTRE_FILE)
    profiles = {r.name: r for r in spec.roles}
    return tuple(
        DemoUser(
            u.username,
            u.first_name,
            u.last_name,
            profiles[u.role].agency,
            Role(profiles[u.role].role),
            profiles[u.role].title if u.title is None else u.title,
            tuple(profiles[u.role].ports),
        )
        for u in spec.users
    )


DEMO_USERS = list(_demo_users())


@transaction.atomic
def ensure_demo_world() -> dict[str, int]:
    """Create the demo centre's agencies, ports, capacities, people and sources that are not there yet.

    The centre file is applied with ``missing_only``: what people changed on a running demo stays as
    it is. The people it creates get the documented password; the port system its documented token.
    """
    outcome = setup_centre(DEMO_CENTRE_FILE, missing_only=True)
    created = [
        c.what.split(" ", 1)[1]
        for c in outcome.changes
        if c.action == "create" and c.what.startswith("user ")
    ]
    User = get_user_model()
    for user in User.objects.filter(username__in=created):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    for user in User.objects.filter(
        membership__role=Role.SYSTEM, username__in=[u.username for u in DEMO_USERS]
    ):
        ensure_demo_token(user)
    return {
        "agencies": outcome.count("agency ") + outcome.count("partner "),
        "ports": outcome.count("port "),
        "users": len(created),
        "sources": outcome.count("source "),
    }


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
