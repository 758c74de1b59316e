"""Presence: who has a target open right now, and whether they are only looking or working on it.

Stored in the default cache (Redis in production, so every Daphne process sees the same presence) under
one key per target: ``{channel_name: {"user": id, "mode": "viewing"|"editing", "at": epoch}}`` with a
TTL. Each open page refreshes its entry with a heartbeat; an entry older than ``PRESENCE_TTL`` is
ignored, so a tab that died without saying goodbye disappears by itself. Two processes writing the same
key at the same instant may lose one entry until that page's next heartbeat: acceptable for a hint.

Nothing here is sent over a socket: a change only makes ``presence.changed`` (the target's id) go to
the groups that see the target, and the browser re-fetches the fragment over HTTP, where scoping applies.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache

#: Seconds an entry counts without a heartbeat.
PRESENCE_TTL = 75
#: Seconds between a page's heartbeats (the script reads it from the include).
HEARTBEAT_SECONDS = 25
MODES = frozenset({"viewing", "editing"})


def _key(target_id: int) -> str:
    return f"live:presence:{target_id}"


def _fresh(entries: dict[str, dict[str, Any]], now: float) -> dict[str, dict[str, Any]]:
    return {ch: e for ch, e in entries.items() if now - e.get("at", 0) < PRESENCE_TTL}


def join(target_id: int, channel: str, user_id: int, mode: str = "viewing") -> bool:
    """Record (or refresh) ``channel``'s presence on the target; True when what others see changed."""
    now = time.time()
    entries = _fresh(cache.get(_key(target_id)) or {}, now)
    before = {(e["user"], e["mode"]) for e in entries.values()}
    entries[channel] = {"user": user_id, "mode": mode if mode in MODES else "viewing", "at": now}
    cache.set(_key(target_id), entries, PRESENCE_TTL)
    return before != {(e["user"], e["mode"]) for e in entries.values()}


def leave(target_id: int, channel: str) -> bool:
    """Forget ``channel``'s presence; True when what others see changed."""
    now = time.time()
    entries = _fresh(cache.get(_key(target_id)) or {}, now)
    before = {(e["user"], e["mode"]) for e in entries.values()}
    entries.pop(channel, None)
    if entries:
        cache.set(_key(target_id), entries, PRESENCE_TTL)
    else:
        cache.delete(_key(target_id))
    return before != {(e["user"], e["mode"]) for e in entries.values()}


def _people(user_modes: dict[int, str]) -> dict[int, dict[str, str]]:
    users = get_user_model().objects.filter(pk__in=user_modes).select_related("membership__agency")
    people = {}
    for user in users:
        name = user.get_full_name() or user.username
        agency = getattr(getattr(user, "membership", None), "agency", None)
        initials = "".join(part[0] for part in name.split()[:2]).upper() or user.username[:2].upper()
        people[user.pk] = {
            "name": name,
            "initials": initials,
            "agency": agency.code if agency else "",
            "mode": user_modes[user.pk],
        }
    return people


def present_on(target_id: int) -> list[dict[str, str]]:
    """The people on this target now, one line each (editing wins over viewing), by name."""
    return presence_for_board([target_id]).get(target_id, [])


def presence_for_board(target_ids: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """``{target_id: [person, ...]}`` for the targets that have anyone on them, in two round trips."""
    ids = list(target_ids)
    if not ids:
        return {}
    now = time.time()
    found = cache.get_many([_key(t) for t in ids])
    per_target: dict[int, dict[int, str]] = {}
    for target_id in ids:
        for entry in _fresh(found.get(_key(target_id)) or {}, now).values():
            modes = per_target.setdefault(target_id, {})
            if modes.get(entry["user"]) != "editing":
                modes[entry["user"]] = entry["mode"]
    all_users = {u: m for modes in per_target.values() for u, m in modes.items()}
    people = _people(all_users) if all_users else {}
    return {
        t: sorted(
            ({**people[u], "mode": m} for u, m in modes.items() if u in people), key=lambda p: p["name"]
        )
        for t, modes in per_target.items()
    }
