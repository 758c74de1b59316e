"""Typed readers for settings taken from the environment.

Each helper raises ``ImproperlyConfigured`` naming the variable when its value cannot be used, so a
deployment with a typo fails at start-up instead of running with a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    return (environ if environ is not None else os.environ).get(name, default)


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    raw = (environ if environ is not None else os.environ).get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean (use one of 1/0, true/false, yes/no, on/off)"
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    raw = (environ if environ is not None else os.environ).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(
    name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    raw = (environ if environ is not None else os.environ).get(name)
    if raw is None:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, environ: Mapping[str, str] | None = None
) -> str:
    value = env_str(name, default, environ=environ).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def env_secret(
    name: str, *, required: bool, fallback: str = "", environ: Mapping[str, str] | None = None
) -> str:
    """A secret that must be long and not a placeholder when ``required`` (production)."""
    value = env_str(name, "", environ=environ)
    if not value:
        if required:
            raise ImproperlyConfigured(f"{name} must be set in production")
        return fallback
    if required and (len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure")):
        raise ImproperlyConfigured(f"{name} is too weak for production: use at least 50 random characters")
    return value


_RATE_PERIODS = ("s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day")


def env_rate(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A request rate as DRF's throttles read it: ``<count>/<period>`` (``600/min``, ``10/s``, ``5000/day``)."""
    value = env_str(name, default, environ=environ).strip()
    count, _, period = value.partition("/")
    if not (count.isdecimal() and int(count) > 0 and period in _RATE_PERIODS):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate such as 600/min (periods: s, min, hour, day)"
        )
    return value


def env_json_object(name: str, *, environ: Mapping[str, str] | None = None) -> dict:
    """A JSON object (``{}`` when unset), e.g. a mapping of the identity provider's groups to roles."""
    import json

    raw = env_str(name, "", environ=environ).strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {type(value).__name__}")
    return value
