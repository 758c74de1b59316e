"""Small template helpers for the targeting pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def person(user: Any, default: str = "System") -> str:
    """A person's full name, else username; ``default`` when there is nobody (the system did it)."""
    if user is None:
        return default
    return user.get_full_name() or user.username
