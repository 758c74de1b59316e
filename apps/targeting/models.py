"""Targets and everything around them: the append-only history, sharing, holds, comments, instructions.

A target is a subject nominated for action (BRIEF capability 3). Its state only changes through the
functions in ``apps.targeting.services``, by a conditional UPDATE on ``(state, version)``, so that two
people never both move the same target and every move leaves a ``Transition`` row that is never
changed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Least
from django.utils import timezone

from apps.agencies.models import ExaminationMethod, Shift
from apps.agencies.operations import membership_of
from apps.agencies.roles import PORT_BOUND_ROLES
from apps.agencies.scoping import ScopedManager, ScopedQuerySet
from apps.compliance.chain import HashChained
from apps.core.storage import uploads


class RiskArea(models.TextChoices):
    NARCOTICS = "narcotics", "Narcotics"
    WEAPONS = "weapons", "Weapons"
    SECURITY = "security", "Security"
    REVENUE = "revenue", "Revenue"
    IPR = "ipr", "Intellectual property"
    CITES = "cites", "Environment (CITES)"
    SPS = "sps", "Sanitary and phytosanitary"
    STRATEGIC = "strategic", "Strategic goods"
    CURRENCY = "currency", "Currency"
    PEOPLE_SMUGGLING = "people_smuggling", "People smuggling"
    IMMIGRATION = "immigration", "Immigration"


RISK_AREAS = RiskArea.choices


class TargetState(models.TextChoices):
    NOMINATED = "nominated", "Nominated"
    IN_REVIEW = "in_review", "In review"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    DISPATCHED = "dispatched", "Dispatched"
    IN_EXAMINATION = "in_examination", "In examination"
    RESULT_RECORDED = "result_recorded", "Result recorded"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ON_HOLD = "on_hold", "On hold"
    MISSED = "missed", "Missed"


S = TargetState
#: Not yet decided: the service-level timer runs against the arrival time.
UNDECIDED_STATES = frozenset({S.NOMINATED, S.IN_REVIEW, S.AWAITING_APPROVAL})
#: Still to be worked on the floor (a queue shows these).
OPEN_STATES = UNDECIDED_STATES | {S.APPROVED, S.ON_HOLD}
#: What a frontline officer may see of the targets at his ports.
AT_PORT_STATES = frozenset({S.DISPATCHED, S.IN_EXAMINATION, S.RESULT_RECORDED, S.CLOSED, S.MISSED})
#: No further transition.
FINAL_STATES = frozenset({S.CLOSED, S.REJECTED, S.WITHDRAWN, S.MISSED})

#: A target still undecided this close to arrival breaches its service level, whatever the table below.
DECISION_LEAD = timedelta(hours=2)
#: Within this of arrival, the timer is shown as "due soon".
DECISION_WARNING = timedelta(hours=6)

#: How long a nomination may stay undecided, by the port's transport mode and the risk area ("_": any
#: other area). Air passengers are nominated from API/PNR a few hours before landing, so minutes count;
#: sea containers are known days before berthing, so days are allowed. A target is breaching once this
#: has passed since nomination, or once it is undecided ``DECISION_LEAD`` before arrival, whichever
#: comes first (``Target.sla_deadline``).
SERVICE_LEVELS: dict[str, dict[str, timedelta]] = {
    "air": {"_": timedelta(minutes=45), "security": timedelta(minutes=20),
            "immigration": timedelta(minutes=30), "people_smuggling": timedelta(minutes=30)},
    "sea": {"_": timedelta(days=2), "security": timedelta(hours=12), "narcotics": timedelta(days=1)},
    "land": {"_": timedelta(hours=2), "security": timedelta(minutes=45)},
    "postal": {"_": timedelta(days=1)},
}  # fmt: skip
#: A target whose port (or its mode) is unknown.
DEFAULT_SERVICE_LEVEL = timedelta(days=1)
#: The last quarter of the allowed time is shown as "due soon".
SERVICE_LEVEL_WARNING_SHARE = 0.25


def service_level(mode: str, risk_area: str) -> timedelta:
    """How long a nomination in ``risk_area`` at a port of transport ``mode`` may stay undecided."""
    levels = SERVICE_LEVELS.get(mode or "", {})
    return levels.get(risk_area, levels.get("_", DEFAULT_SERVICE_LEVEL))


_PORT_MODES: dict[int, str] = {}
_PORT_MODES_READ = [0.0]
_PORT_MODES_TTL = 60.0


def port_mode(port_id: int | None) -> str:
    """The transport mode of a port, from a small in-process map (ports are reference data): a board
    of fifty cards asks the database once, not once per card. Read again after a minute, or on a port
    it does not know yet."""
    import time

    if port_id is None:
        return ""
    stale = time.monotonic() - _PORT_MODES_READ[0] > _PORT_MODES_TTL
    if stale or port_id not in _PORT_MODES:
        from apps.agencies.models import Port

        _PORT_MODES.clear()
        _PORT_MODES.update(Port.objects.values_list("pk", "mode"))
        _PORT_MODES_READ[0] = time.monotonic()
    return _PORT_MODES.get(port_id, "")


def breach_q(now: datetime) -> Q:
    """Undecided targets past their service level (``Target.sla_status`` == "breached"), as a filter."""
    from apps.agencies.models import TransportMode

    late_by_level = Q(port__isnull=True, created_at__lte=now - DEFAULT_SERVICE_LEVEL)
    for mode in TransportMode.values:
        levels = SERVICE_LEVELS.get(mode, {})
        named = sorted(area for area in levels if area != "_")
        in_mode = Q(created_at__lte=now - levels.get("_", DEFAULT_SERVICE_LEVEL)) & ~Q(risk_area__in=named)
        for area in named:
            in_mode |= Q(risk_area=area, created_at__lte=now - levels[area])
        late_by_level |= Q(port__mode=mode) & in_mode
    return Q(state__in=UNDECIDED_STATES) & (Q(arrival_at__lte=now + DECISION_LEAD) | late_by_level)


def decision_due(
    mode: str, risk_area: str, created_at: datetime | None, arrival_at: datetime | None
) -> datetime | None:
    """When a target's decision is due: its service level after nomination, or ``DECISION_LEAD`` before
    arrival, whichever comes first (None when neither is known). ``Target.sla_deadline`` and the reports'
    queue breaches both read this."""
    times = []
    if created_at is not None:
        times.append(created_at + service_level(mode, risk_area))
    if arrival_at is not None:
        times.append(arrival_at - DECISION_LEAD)
    return min(times) if times else None


def decision_due_expression() -> Any:
    """``decision_due`` as a database expression on targets (for reports that count in SQL)."""
    from django.db.models import DateTimeField, DurationField, ExpressionWrapper
    from django.db.models.functions import Coalesce

    from apps.agencies.models import TransportMode

    def after(level: timedelta) -> Any:
        return ExpressionWrapper(
            F("created_at") + Value(level, DurationField()), output_field=DateTimeField()
        )

    whens = []
    for mode in TransportMode.values:
        levels = SERVICE_LEVELS.get(mode, {})
        for area in sorted(a for a in levels if a != "_"):
            whens.append(When(port__mode=mode, risk_area=area, then=after(levels[area])))
        whens.append(When(port__mode=mode, then=after(levels.get("_", DEFAULT_SERVICE_LEVEL))))
    by_level = Case(*whens, default=after(DEFAULT_SERVICE_LEVEL), output_field=DateTimeField())
    before_arrival = ExpressionWrapper(
        F("arrival_at") - Value(DECISION_LEAD, DurationField()), output_field=DateTimeField()
    )
    # SQLite's two-argument MIN is NULL when either is: an unknown arrival leaves the service level.
    return Least(by_level, Coalesce(before_arrival, by_level), output_field=DateTimeField())


#: How much a queue raises a target's rank as its arrival nears: (arrives within, points added). Only for
#: ordering queues (``with_urgency``, ``urgency_now``); no screen shows the sum as a priority.
URGENCY_STEPS = (
    (timedelta(hours=1), 40),
    (timedelta(hours=4), 25),
    (timedelta(hours=12), 10),
    (timedelta(hours=24), 5),
)


class Scope(models.TextChoices):
    """Who decides on a target under the hybrid operating model (the other models ignore it)."""

    NATIONAL = "national", "National"
    PORT = "port", "Port"


class HandlingCode(models.TextChoices):
    """The condition under which a target or note is shared with another agency (BRIEF capability 8).

    "May see" reads the target (as ``disclosure`` allows), comments on it and may place a deconfliction
    hold; "may act" also claims, withdraws and, in the deciding team, decides; "may pass on" may share it
    further, only as "may see" or "owner consent", and never changes a share that already exists;
    "owner consent" acts once the owner agrees.
    """

    SEE = "see", "May see"
    ACT = "act", "May act"
    PASS_ON = "pass_on", "May pass on"
    CONSENT = "consent", "Owner consent before action"


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
        now = now or timezone.now()
        boost = Case(
            When(arrival_at__isnull=True, then=Value(0)),
            *(When(arrival_at__lte=now + within, then=Value(points)) for within, points in URGENCY_STEPS),
            default=Value(0),
            output_field=IntegerField(),
        )
        return self.annotate(urgency=Least(F("priority") + boost, Value(100)))

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


class Hold(models.Model):
    """A deconfliction hold: an agency asks that a target is not examined (a controlled delivery).

    Only the holding agency releases it. A held target is in state ``on_hold`` and cannot be
    dispatched; the hold row itself is the record of who held it, when and why, and who released it.
    """

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="holds")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "agency"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"Hold on {self.target_id} by {self.agency_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(target__in=Target.visible_pks(membership))

    @property
    def active(self) -> bool:
        return self.released_at is None


class Comment(models.Model):
    """A note on a target, owned by the author's agency and visible to the agencies it is shared with."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    shared_with = models.ManyToManyField("agencies.Agency", blank=True, related_name="+")
    code = models.CharField(max_length=10, choices=HandlingCode.choices, default=HandlingCode.SEE)
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.target_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        on_visible_target = Q(target__in=Target.visible_pks(membership))
        shared = Q(owner_agency_id=membership.agency_id) | Q(
            pk__in=Comment.shared_with.through.objects.filter(agency_id=membership.agency_id).values(
                "comment_id"
            )
        )
        return on_visible_target & shared


class Attachment(models.Model):
    """A file on a comment: type and size checked on upload, stored with its SHA-256."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="targeting/%Y/%m/", storage=uploads)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(comment__in=Comment.objects.filter(Comment.visibility_q(membership)).values("pk"))


class JointOperation(models.Model):
    """A named operation over a time window grouping targets of several agencies, with its members."""

    name = models.CharField(max_length=200)
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    agencies = models.ManyToManyField("agencies.Agency", blank=True, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="operation_window")
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        participating = JointOperation.agencies.through.objects.filter(agency_id=membership.agency_id)
        return Q(owner_agency_id=membership.agency_id) | Q(pk__in=participating.values("jointoperation_id"))

    def is_running(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.starts_at <= now < self.ends_at


class DispatchProposal(models.Model):
    """The dispatcher's proposal for one port and shift: what to examine, by which method, and what not.

    ``selected`` is ``[{"target", "version", "method", "p", "value"}]``; ``left_out`` is
    ``[{"target", "reason"}]``. A supervisor accepts it (possibly edited), which dispatches the targets.
    """

    port = models.ForeignKey("agencies.Port", on_delete=models.PROTECT, related_name="+")
    shift = models.CharField(max_length=10, choices=Shift.choices)
    date = models.DateField(null=True, blank=True, help_text="The day of the shift (the day it starts).")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    capacity = models.JSONField(default=dict)
    capacity_source = models.JSONField(
        default=dict, blank=True, help_text="Per method: the weekly default or the calendar's day (and why)."
    )
    selected = models.JSONField(default=list)
    left_out = models.JSONField(default=list)
    expected_findings = models.FloatField(default=0)
    baseline_findings = models.FloatField(default=0, help_text="First come, first served, for comparison.")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Proposal {self.pk} for {self.port_id} {self.shift}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """The agency's proposals, to the people who plan the examinations. An officer at the port (or a
        port system) works from instructions: a proposal would tell him which target was drawn for random
        control and what each is expected to find, which nothing else shows him."""
        if Target.role_narrows(membership):
            return Q(pk__in=[])
        return Q(agency_id=membership.agency_id)


class Instruction(models.Model):
    """An examination instruction: an approved target sent to a port, with method and what the officer
    may see of the intelligence behind it."""

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="instructions")
    port = models.ForeignKey("agencies.Port", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=ExaminationMethod.choices)
    shift = models.CharField(max_length=10, choices=Shift.choices, blank=True)
    instruction = models.TextField(help_text="What the officer is told: the intelligence he may see.")
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField(default=timezone.now, db_index=True)
    proposal = models.ForeignKey(
        DispatchProposal, on_delete=models.SET_NULL, null=True, blank=True, related_name="instructions"
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["-dispatched_at", "-id"]

    def __str__(self) -> str:
        return f"Instruction {self.pk}: {self.get_method_display()} at {self.port_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(target__in=Target.visible_pks(membership))
