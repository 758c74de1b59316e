"""The target, its one visibility rule (every child derives its own from it) and its shares.

A target's state only changes through the functions in ``apps.targeting.services``, by a conditional
UPDATE on ``(state, version)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Func, IntegerField, Q
from django.utils import timezone

from apps.agencies.operations import membership_of
from apps.agencies.roles import PORT_BOUND_ROLES
from apps.agencies.scoping import ScopedManager, ScopedQuerySet
from apps.targeting.models.choices import (
    AT_PORT_STATES,
    OPEN_STATES,
    UNDECIDED_STATES,
    HandlingCode,
    RiskArea,
    S,
    Scope,
    TargetState,
)
from apps.targeting.models.service_levels import (
    DECISION_WARNING,
    SERVICE_LEVEL_WARNING_SHARE,
    URGENCY_STEPS,
    breach_q,
    decision_due,
    port_mode,
    service_level,
)


class Urgency(Func):
    """``LEAST(priority + CASE WHEN arrival_at IS NULL THEN 0 WHEN arrival_at <= now + 1 h THEN 40 …
    ELSE 0 END, 100)``: the queue's ranking key at ``now`` (``URGENCY_STEPS``, ``Target.urgency_now``).

    The SQL that ``Least(F("priority") + Case(When(...), ...), Value(100))`` compiles to, written once
    from ``URGENCY_STEPS`` instead of building and compiling a ``Case`` of five ``When`` per query: that
    cost about as much as the rest of a queue's ranking query (docs/performance.md, sixth pass). The
    points are constants of the code, written into the SQL; the bounds are parameters.
    """

    output_field = IntegerField()

    def __init__(self, now: datetime) -> None:
        self.now = now
        super().__init__(F("priority"), F("arrival_at"))

    def as_sql(  # type: ignore[override]  # the SQL is this class's own, not a template's
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        priority, priority_params = compiler.compile(self.source_expressions[0])
        arrival, arrival_params = compiler.compile(self.source_expressions[1])
        assert not priority_params and not arrival_params  # two columns of the row
        steps = "".join(f" WHEN {arrival} <= %s THEN {int(points)}" for _, points in URGENCY_STEPS)
        bounds = [connection.ops.adapt_datetimefield_value(self.now + within) for within, _ in URGENCY_STEPS]
        least = "MIN" if connection.vendor == "sqlite" else "LEAST"  # as ``Least`` compiles on SQLite
        sql = f"{least}(({priority} + CASE WHEN {arrival} IS NULL THEN 0{steps} ELSE 0 END), 100)"
        return sql, bounds


#: What a page or API answer about one target reads with it, joined in its one query: the owner, the
#: port, and the subject with its port and source. Who claimed it (``claimed_by``) is left out: most
#: targets have nobody, and an eighth joined table made PostgreSQL's planner search join orders for
#: longer than the statement then ran (the transition API's read: planning 2.7 ms with it, 1.1 ms
#: without); a claimed target's holder is read when shown. Lists of many targets join it instead.
TARGET_ROW = ("owner_agency", "port", "subject", "subject__port", "subject__source")


class TargetQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any) -> TargetQuerySet:
        """Targets the user may see: ``Target.visibility_q``, the one rule every child derives from."""
        membership = membership_of(user)
        if membership is None:
            return self.none()
        return self.filter(Target.visibility_q(membership))

    def with_urgency(self, now: datetime | None = None) -> TargetQuerySet:
        """Annotate ``urgency``: the priority raised as arrival nears (capped at 100), to order queues.

        A ranking key, not a priority: every screen shows ``Target.display_priority`` and the time left
        as the SLA badge, so a target never shows two different numbers called "priority".
        """
        return self.annotate(urgency=Urgency(now or timezone.now()))

    def breaching(self, now: datetime | None = None) -> TargetQuerySet:
        """Undecided targets past their service level: ``breach_q``, as ``Target.sla_status`` says."""
        return self.filter(breach_q(now or timezone.now()))


class Target(models.Model):
    """A subject nominated for action, with its risk area, reasons, priority and owner agency."""

    subject = models.ForeignKey("intake.Subject", on_delete=models.PROTECT, related_name="targets")
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=TargetState.choices, default=S.NOMINATED)
    version = models.PositiveIntegerField(default=1, help_text="Raised by every change; stale edits fail.")
    resume_state = models.CharField(
        max_length=20,
        choices=TargetState.choices,
        blank=True,
        help_text="The state to return to from a hold.",
    )
    risk_area = models.CharField(max_length=20, choices=RiskArea.choices)
    reasons = models.JSONField(default=list, help_text='[{"kind": "rule"|..., "text": str, "ref": str}]')
    priority = models.PositiveSmallIntegerField(default=50)
    score = models.FloatField(null=True, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.NATIONAL)
    port = models.ForeignKey(
        "agencies.Port", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    arrival_at = models.DateTimeField(null=True, blank=True)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_engine = models.BooleanField(default=False)
    random_control = models.BooleanField(default=False)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    operation = models.ForeignKey(
        "JointOperation", on_delete=models.SET_NULL, null=True, blank=True, related_name="targets"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = models.Manager.from_queryset(TargetQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner_agency", "state"], name="target_owner_state"),
            models.Index(fields=["state", "port", "risk_area"], name="target_queue"),
            models.Index(fields=["state", "arrival_at"], name="target_state_arrival"),
            models.Index(fields=["subject", "risk_area", "state"], name="target_subject_open"),
            # The queue page: open targets of a port, ranked by an urgency that depends on the clock.
            # Every column the ranking, the count and the visibility filter read is in the index, so
            # PostgreSQL answers with an index-only scan of the port's open targets, not a table scan.
            models.Index(
                fields=["port", "priority", "arrival_at"],
                include=["owner_agency", "risk_area", "state", "operation", "id"],
                condition=Q(state__in=sorted(OPEN_STATES)),
                name="target_open_queue",
            ),
        ]
        constraints = [
            # Nobody in an agency works the same subject twice in one risk area (``services.nominate``
            # decides it under a lock on the subject; the database refuses a second all the same). A
            # dispatched target put on hold is left out: it is the port's, already past the decision,
            # and holding it must not clash with a new nomination made after its dispatch.
            models.UniqueConstraint(
                fields=["subject", "risk_area", "owner_agency"],
                condition=Q(state__in=sorted(OPEN_STATES)) & ~Q(state=S.ON_HOLD, resume_state=S.DISPATCHED),
                name="target_one_open_per_agency",
            ),
        ]

    def __str__(self) -> str:
        # No subject title: a target's name must be safe to show to anyone who may see the target.
        return f"{self.reference} · {self.get_risk_area_display()}"

    @property
    def reference(self) -> str:
        return f"T-{self.pk:06d}" if self.pk else "T-new"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """Owned by or shared with the member's agency, narrowed by the member's role.

        A frontline officer sees only targets sent to one of his ports, from dispatch on (and a
        dispatched target held since, so that the tablet can say "do not examine"): he has nothing to
        do with a nomination still argued on the floor. A port team sees its ports' targets as the
        operating model gives them to it (``routing.port_team_q``). Every child (holds, comments, attachments,
        transitions, instructions, results, photos, feedback) filters through this ``Q``, so the
        narrowing reaches them all.
        """
        from apps.targeting.routing import is_port_team, port_ids_of, port_team_q

        shared = TargetShare.objects.filter(agency_id=membership.agency_id).values("target_id")
        q = Q(owner_agency_id=membership.agency_id) | Q(pk__in=shared)
        if cls.role_narrows(membership):
            at_port = Q(state__in=AT_PORT_STATES) | Q(state=S.ON_HOLD, resume_state=S.DISPATCHED)
            q &= Q(port_id__in=sorted(port_ids_of(membership))) & at_port
        elif is_port_team(membership):
            q &= port_team_q(membership)
        return q

    @staticmethod
    def role_narrows(membership: Any) -> bool:
        """Whether the member's role sees fewer targets than the agency does (``visibility_q``)."""
        return membership.role in PORT_BOUND_ROLES

    @classmethod
    def narrows(cls, membership: Any) -> bool:
        """Whether the member sees fewer targets than the agency does: by role, or as a port team
        (``routing.port_team_q``). Summaries keyed like targets (``TargetStat``) go through the targets
        themselves then."""
        from apps.targeting.routing import is_port_team

        return cls.role_narrows(membership) or is_port_team(membership)

    @classmethod
    def visible_pks(cls, membership: Any) -> models.QuerySet:
        """The ids of the targets the member may see, as a subquery for children's ``visibility_q``."""
        return Target.objects.filter(cls.visibility_q(membership)).values("pk")

    def check_operation(self, membership: Any, operation: str, config: Any = None) -> None:
        """Agency and routing rules beyond the role (called by ``operations.check``; ``config``: the centre's
        configuration when the caller read it already)."""
        from apps.targeting.routing import check_target_operation

        check_target_operation(membership, self, operation, config)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def service_level(self) -> timedelta:
        """How long this nomination may stay undecided (``SERVICE_LEVELS``, by port mode and risk area)."""
        return service_level(self._port_mode(), self.risk_area)

    def _port_mode(self) -> str:
        """The port's transport mode: from the loaded port, else the in-process map (``port_mode``)."""
        port = self._state.fields_cache.get("port")
        if port is not None and "mode" not in port.get_deferred_fields():
            return port.mode
        return port_mode(self.port_id)

    def sla_deadline(self) -> datetime | None:
        """When the decision is due: the service level after nomination, or ``DECISION_LEAD`` before
        arrival, whichever comes first (None when neither is known)."""
        # A card loaded without its nomination time (a board's ``only()``) keeps the arrival timer
        # rather than reading the row again for each card.
        if "created_at" in self.get_deferred_fields() or self.created_at is None:
            return decision_due("", self.risk_area, None, self.arrival_at)
        return decision_due(self._port_mode(), self.risk_area, self.created_at, self.arrival_at)

    def sla_status(self, now: datetime | None = None) -> str:
        """``breached``, ``due`` or ``ok`` for an undecided target; else ``""``.

        Breached once past ``sla_deadline``; due soon within ``DECISION_WARNING`` of arrival or in the
        last quarter of the service level.
        """
        if self.state not in UNDECIDED_STATES:
            return ""
        deadline = self.sla_deadline()
        if deadline is None:
            return ""
        now = now or timezone.now()
        if now >= deadline:
            return "breached"
        if self.arrival_at is not None and self.arrival_at <= now + DECISION_WARNING:
            return "due"
        if "created_at" not in self.get_deferred_fields() and self.created_at is not None:
            level = self.service_level
            if now >= self.created_at + level * (1 - SERVICE_LEVEL_WARNING_SHARE):
                return "due"
        return "ok"

    @property
    def display_priority(self) -> int:
        """The one priority every screen, export and API shows: the priority as set (0-100) — by the
        analyst at nomination, or from the engine's score.

        It does not change with the clock. How near arrival is shows beside it as the SLA badge and the
        time left, and ranks queues (``with_urgency``); it is never added into the number shown as
        "priority", so the list, the board, the queue, the target page, the API and the CSV agree.
        """
        return self.priority

    def urgency_now(self, now: datetime | None = None) -> int:
        """The queue's ranking key (``with_urgency``) for one loaded target; not shown as a priority."""
        if self.arrival_at is None:
            return self.priority
        left = self.arrival_at - (now or timezone.now())
        boost = next((points for within, points in URGENCY_STEPS if left <= within), 0)
        return min(100, self.priority + boost)


class TargetShare(models.Model):
    """A target shared with another agency under a handling code."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="shares")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=10, choices=HandlingCode.choices, default=HandlingCode.SEE)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)
    consent_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    consent_given_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["shared_at"]
        constraints = [models.UniqueConstraint(fields=["target", "agency"], name="target_share_once")]
        indexes = [models.Index(fields=["agency", "target"], name="target_share_agency")]

    def __str__(self) -> str:
        return f"{self.target_id} → {self.agency_id} ({self.code})"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """The shares of the targets the member may see; none to a port-bound role, whom the target
        page (``disclose(...).briefing_only``) shows no sharing at all."""
        if Target.role_narrows(membership):
            return Q(pk__in=[])
        return Q(target__in=Target.visible_pks(membership))

    @property
    def may_act(self) -> bool:
        if self.code == HandlingCode.CONSENT:
            return self.consent_given_at is not None
        return self.code in {HandlingCode.ACT, HandlingCode.PASS_ON}
