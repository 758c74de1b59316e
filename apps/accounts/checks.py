"""Start-up check of the single sign-on role mapping: a typo in a role stops the start, named."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from apps.agencies.roles import Role


@register()
def check_group_roles(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    for group, profile in settings.RATC_OIDC_GROUP_ROLES.items():
        where = f"RATC_OIDC_GROUP_ROLES[{group!r}]"
        if not isinstance(profile, dict):
            errors.append(Error(f"{where} must be an object with agency, role and ports", id="accounts.E001"))
            continue
        if not isinstance(profile.get("agency"), str) or not profile["agency"]:
            errors.append(Error(f"{where} needs an agency code", id="accounts.E002"))
        if profile.get("role") not in set(Role.values) - {Role.SYSTEM}:
            errors.append(
                Error(
                    f"{where} role {profile.get('role')!r} is not a role people sign in with",
                    hint=f"one of: {', '.join(sorted(set(Role.values) - {Role.SYSTEM}))}",
                    id="accounts.E003",
                )
            )
        ports = profile.get("ports", [])
        if not isinstance(ports, list) or not all(isinstance(p, str) for p in ports):
            errors.append(Error(f"{where} ports must be a list of UN/LOCODEs", id="accounts.E004"))
        if unknown := set(profile) - {"agency", "role", "ports"}:
            errors.append(
                Error(f"{where} has unknown keys: {', '.join(sorted(unknown))}", id="accounts.E005")
            )
    return errors
