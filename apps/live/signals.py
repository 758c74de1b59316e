"""Sockets follow the account: logout, a disabled account or a changed membership reach them at once.

Each handler sends a control message to the person's own group ``user-<id>`` (never to everyone); every
socket of that person, in any Daphne process, acts on it. The watchdog's periodic session re-check
(``apps.live.watch``) closes the same sockets within seconds should a message be lost.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from apps.agencies.models import Membership
from apps.core.events import control_on_commit, group_name
from apps.live.watch import session_fingerprint


@receiver(user_logged_out, dispatch_uid="live.close_on_logout")
def close_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Close the sockets of the session that signed out (other sessions of the person stay open)."""
    if user is None or request is None:
        return
    key = getattr(getattr(request, "session", None), "session_key", None)
    control_on_commit(group_name("user", user.pk), "live.close", session=session_fingerprint(key))


@receiver(post_save, sender=get_user_model(), dispatch_uid="live.close_on_disable")
def close_on_disable(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A disabled account loses every socket, in every session."""
    if not created and not instance.is_active:
        control_on_commit(group_name("user", instance.pk), "live.close")


@receiver(post_save, sender=Membership, dispatch_uid="live.recheck_on_membership_save")
@receiver(post_delete, sender=Membership, dispatch_uid="live.recheck_on_membership_delete")
def recheck_on_membership(sender: Any, instance: Membership, **kwargs: Any) -> None:
    """Another agency, role or set of ports: each socket checks its subscription again."""
    control_on_commit(group_name("user", instance.user_id), "live.recheck")


@receiver(m2m_changed, sender=Membership.ports.through, dispatch_uid="live.recheck_on_ports")
def recheck_on_ports(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, Membership):
        control_on_commit(group_name("user", instance.user_id), "live.recheck")
