"""Named operations and the roles that may perform them: the one place that decides who may do what.

Every service function starts with ``check(actor, "<operation>", obj)``. Pages and the API hide what a
role cannot use by asking ``can(actor, operation)``; the service still checks, so hiding is convenience,
not security.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.agencies.roles import Role

R = Role

OPERATIONS: dict[str, frozenset[str]] = {
    # Reference data and configuration
    "reference.view": frozenset(R.values),
    "reference.manage": frozenset({R.ADMINISTRATOR}),
    "membership.view": frozenset({R.SUPERVISOR, R.MANAGER, R.ADMINISTRATOR, R.AUDITOR}),
    # Sources and intake
    "source.view": frozenset(R.values) - {R.FRONTLINE},
    "source.manage": frozenset({R.ADMINISTRATOR, R.RISK_MANAGER}),
    "source.share": frozenset({R.ADMINISTRATOR}),
    # A system account pushes into the sources its membership lists (``Membership.sources``, see ``check``).
    "intake.upload": frozenset({R.ANALYST, R.RISK_MANAGER, R.ADMINISTRATOR, R.SYSTEM}),
    "subject.view": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.RISK_MANAGER, R.AUDITOR}),
    "entity.decide": frozenset({R.ANALYST, R.SUPERVISOR}),  # confirm or split a same-person/trader link
    # Risk engine
    "rule.view": frozenset({R.ANALYST, R.SUPERVISOR, R.RISK_MANAGER, R.MANAGER, R.AUDITOR}),
    "rule.edit": frozenset({R.RISK_MANAGER}),
    "rule.publish": frozenset({R.RISK_MANAGER}),
    "rule.backtest": frozenset({R.RISK_MANAGER, R.ANALYST}),
    "watchlist.view": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.RISK_MANAGER, R.AUDITOR}),
    "watchlist.manage": frozenset({R.RISK_MANAGER, R.LIAISON}),
    # A person rules each watchlist hit (true match, false match, unsure) before it may lead to action.
    "hit.rule": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.RISK_MANAGER}),
    "model.view": frozenset({R.RISK_MANAGER, R.MANAGER, R.ANALYST, R.AUDITOR}),
    "model.train": frozenset({R.RISK_MANAGER}),
    "model.activate": frozenset({R.RISK_MANAGER}),
    # Targeting workflow
    "target.view": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.FRONTLINE, R.MANAGER, R.AUDITOR}),
    # Reading targets, queues and instructions through the API: whoever views targets, and the port
    # systems, which have no pages. ``Target.visibility_q`` narrows the port-bound roles
    # (``roles.PORT_BOUND_ROLES``) to what is sent to their ports, and they read it as the briefing.
    "target.pull": frozenset(
        {R.ANALYST, R.SUPERVISOR, R.LIAISON, R.FRONTLINE, R.MANAGER, R.AUDITOR, R.SYSTEM}
    ),
    "target.nominate": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON}),
    "target.claim": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON}),
    "target.review": frozenset({R.ANALYST, R.SUPERVISOR}),
    "target.approve": frozenset({R.SUPERVISOR}),
    "target.reject": frozenset({R.SUPERVISOR}),
    "target.withdraw": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON}),
    "target.dispatch": frozenset({R.SUPERVISOR}),
    "target.hold": frozenset({R.SUPERVISOR, R.LIAISON}),
    "target.comment": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.FRONTLINE}),
    "target.share": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON}),
    "board.view": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.MANAGER, R.FRONTLINE}),
    # Frontline
    "exam.view": frozenset({R.FRONTLINE, R.SUPERVISOR, R.ANALYST, R.MANAGER, R.AUDITOR, R.SYSTEM}),
    "exam.record": frozenset({R.FRONTLINE, R.SYSTEM}),  # port systems record through the API
    "exam.correct": frozenset({R.SUPERVISOR}),
    # A port system registers the webhooks that tell it of its port's instructions (apps.integrations).
    "webhook.manage": frozenset({R.SYSTEM}),
    # Reporting
    "report.view": frozenset({R.MANAGER, R.SUPERVISOR, R.RISK_MANAGER, R.AUDITOR}),
    "report.export": frozenset({R.MANAGER, R.SUPERVISOR, R.RISK_MANAGER}),
    # The law
    "audit.view": frozenset({R.AUDITOR}),
    "unmask.request": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON}),
    "unmask.approve": frozenset({R.SUPERVISOR, R.AUDITOR}),
    # Shift handover (apps.handover): the outgoing supervisor (or a partner desk's liaison) writes it,
    # the incoming one acknowledges it; the floor reads it.
    "handover.view": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.MANAGER, R.AUDITOR}),
    "handover.write": frozenset({R.SUPERVISOR, R.LIAISON}),
    "handover.acknowledge": frozenset({R.SUPERVISOR, R.LIAISON}),
    # Data quality by carrier (apps.quality): figures for the sources the agency may see; a request
    # for missing data goes to a carrier only from the source's owner agency.
    "quality.view": frozenset({R.ANALYST, R.SUPERVISOR, R.LIAISON, R.RISK_MANAGER, R.MANAGER, R.AUDITOR}),
    "quality.request": frozenset({R.SUPERVISOR, R.RISK_MANAGER}),
}


def membership_of(user: Any):
    """The user's active membership, cached on the user object for the request; None for outsiders."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_ratc_membership", False)
    if cached is not False:
        return cached
    from apps.agencies.models import Membership

    # The agency's group comes along: scoping reads the agency's grants through it (scoping.granted_pks).
    membership = Membership.objects.select_related("agency__group").filter(user=user).first()
    user._ratc_membership = membership
    return membership


def can(user: Any, operation: str) -> bool:
    """Whether the user's role allows the operation at all (no object considered)."""
    if operation not in OPERATIONS:
        raise KeyError(f"unknown operation {operation!r}")
    membership = membership_of(user)
    return membership is not None and membership.role in OPERATIONS[operation]


def check(
    actor: User, operation: str, obj: Any = None, *, visible: bool | None = None, **context: Any
) -> None:
    """Raise unless ``actor`` may perform ``operation`` (on ``obj``, when given).

    An object outside the actor's scope raises ``Http404``: to an outsider it does not exist. A visible
    object the actor's role may not act on raises ``PermissionDenied``. A model can add its own rule
    (a port officer acts only on his ports) with ``check_operation(membership, operation)``, which raises.

    ``visible``: whether ``obj`` is visible to ``actor``, when the caller has just read that in this
    request (a page asking about each of its buttons); otherwise it is asked here. ``context`` goes to the
    model's ``check_operation`` (a target's: the centre's configuration, read once for the page).
    """
    if obj is not None:
        if visible is None:
            manager = type(obj)._default_manager
            visible = (
                not hasattr(manager, "visible_to") or manager.visible_to(actor).filter(pk=obj.pk).exists()
            )
        if not visible:
            raise Http404("Not found.")
    if not can(actor, operation):
        raise PermissionDenied(f"Your role may not perform {operation}.")
    membership = membership_of(actor)
    if obj is not None and operation in SOURCE_BOUND_OPERATIONS:
        _check_source_bound(membership, obj)
    if obj is not None and hasattr(obj, "check_operation"):
        obj.check_operation(membership, operation, **context)


def allows(actor: User, operation: str, obj: Any = None, **kwargs: Any) -> bool:
    """``check`` as a yes or no, for buttons and links: the decision the service will make, asked of the
    same function, so that a button is never offered for a change the service refuses (or hidden for one
    it allows)."""
    try:
        check(actor, operation, obj, **kwargs)
    except (PermissionDenied, Http404):
        return False
    return True


#: Operations on a data source that a membership listing ``sources`` may do on those sources only.
SOURCE_BOUND_OPERATIONS = frozenset({"intake.upload"})


def _check_source_bound(membership: Any, source: Any) -> None:
    """A membership that lists data sources (a port system's) may push only into those."""
    allowed = getattr(membership, "_ratc_source_ids", None)
    if allowed is None:
        allowed = set(membership.sources.values_list("pk", flat=True))
        membership._ratc_source_ids = allowed
    if allowed and source.pk not in allowed:
        raise PermissionDenied("This account may not push data into this source.")
