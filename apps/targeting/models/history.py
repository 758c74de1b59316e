"""The append-only history of a target: every move, who made it and why, hash-chained."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.scoping import ScopedManager
from apps.compliance.chain import HashChained
from apps.targeting.models.choices import TargetState
from apps.targeting.models.target import Target


class AppendOnly(models.Model):
    """A record that is written once and never changed or deleted (the law: capability 9)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied(f"{type(self).__name__} records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied(f"{type(self).__name__} records are append-only.")


class Transition(HashChained):
    """One move of one target: who, of which agency, when, from which state to which, and why.

    Append-only and hash-chained like the access log (``apps.compliance.chain``): ``manage.py
    verify_chain`` finds a changed or removed record.
    """

    CHAINED = ("target", "actor", "actor_agency", "from_state", "to_state", "version", "reason", "at")

    #: The reasons the risk engine gives when it nominates: a risk target, a random-control draw. Whoever
    #: may not be told of the draw (``disclosure.base.random_control_told_to``) reads the first for both.
    ENGINE_NOMINATION_REASON = "Risk engine assessment"
    RANDOM_NOMINATION_REASON = "Random control"

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="transitions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_state = models.CharField(max_length=20, choices=TargetState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=TargetState.choices)
    version = models.PositiveIntegerField(help_text="The target's version after this move.")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "target transition"

    def __str__(self) -> str:
        return f"{self.target_id}: {self.from_state or '∅'} → {self.to_state}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(target__in=Target.visible_pks(membership))
