"""Who decides on a target: agency rules (owner, or shared "may act") and routing by operating model.

Routing reads ``CentreConfiguration.current().operating_model`` every time it is asked, so changing the
configuration in the admin changes who reviews and approves at once, with no code and no migration:

- centralised: the national team (members of the national agency with no ports) reviews, approves
  and dispatches every target;
- decentralised: the port's own team (members whose ``Membership.ports`` include the target's port)
  does; a target with no port falls back to the national team;
- hybrid: national targets (``scope="national"``) go to the national team, port targets to the port.

The model changes more than who approves (BRIEF capability 10):

- **what a port team sees** (``port_team_q``; members of an agency with ports who are not frontline):
  centralised, its ports' targets once approved (it executes); decentralised, every target at its ports
  (it targets for itself); hybrid, its ports' port targets from nomination and national ones once
  approved. National staff (no ports) see all; a person always sees what he nominated;
- **who writes rules for where** (``rule_ports_for``): centralised, the national centre only;
  decentralised and hybrid, a port team writes rules for its own ports;
- **where the engine's hits land** (``engine_scope``): a hit of a port rule alone makes a port target,
  a national rule's or a watchlist's hit a national one.

``apps.targeting.services.change_operating_model`` switches the model and writes on each open target
whose deciding team changed a history line saying so.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from apps.agencies.models import CentreConfiguration, OperatingModel
from apps.agencies.roles import PORT_BOUND_ROLES, Role
from apps.targeting.models import Scope, TargetState

S = TargetState

#: Operations decided by the team the operating model routes the target to.
ROUTED_OPERATIONS = frozenset({"target.review", "target.approve", "target.reject", "target.dispatch"})
#: Operations that need the agency to own the target or to hold a "may act" share. A hold is not among
#: them, by decision: deconfliction is the reason a target is shared with a partner at all, and a partner
#: whose controlled delivery an examination would burn must be able to stop it with "may see" alone.
#: The hold stops only the examination (it cannot approve, withdraw or claim), names its agency to every
#: viewer, and only that agency releases it.
ACTING_OPERATIONS = ROUTED_OPERATIONS | {"target.withdraw", "exam.record", "target.claim"}

NATIONAL = Scope.NATIONAL
PORT = Scope.PORT
#: States in which a target is being executed at its port: what a port team that does not decide on it sees.
EXECUTION_STATES = frozenset(
    {S.APPROVED, S.DISPATCHED, S.IN_EXAMINATION, S.RESULT_RECORDED, S.CLOSED, S.MISSED}
)


def decision_level(target: Any, config: CentreConfiguration | None = None) -> str:
    """``national`` or ``port``: which team decides on ``target`` under the current operating model."""
    config = config or CentreConfiguration.current()
    if target.port_id is None:
        return NATIONAL
    if config.operating_model == OperatingModel.DECENTRALISED:
        return PORT
    if config.operating_model == OperatingModel.HYBRID and target.scope == PORT:
        return PORT
    return NATIONAL


def port_ids_of(membership: Any) -> set[int]:
    cached = getattr(membership, "_ratc_port_ids", None)
    if cached is None:
        cached = {p.pk for p in membership.ports.all()}
        membership._ratc_port_ids = cached
    return cached


def may_act_as_agency(membership: Any, target: Any) -> bool:
    """The member's agency owns the target, or holds a share that allows action (consent given)."""
    if membership.agency_id == target.owner_agency_id:
        return True
    share = next((s for s in target.shares.all() if s.agency_id == membership.agency_id), None)
    return share is not None and share.may_act


def in_deciding_team(membership: Any, target: Any, config: CentreConfiguration | None = None) -> bool:
    """Whether the member belongs to the team that decides on ``target`` under the operating model."""
    config = config or CentreConfiguration.current()
    if decision_level(target, config) == PORT:
        return target.port_id in port_ids_of(membership)
    national_agency_id = config.national_agency_id or target.owner_agency_id
    return membership.agency_id == national_agency_id and not port_ids_of(membership)


def deciding_team_label(target: Any, config: CentreConfiguration | None = None) -> str:
    """A phrase for pages: who is to decide on this target."""
    config = config or CentreConfiguration.current()
    if decision_level(target, config) == PORT:
        return f"Port team {target.port.locode}"
    return "National centre"


def check_target_operation(
    membership: Any, target: Any, operation: str, config: CentreConfiguration | None = None
) -> None:
    """Raise ``PermissionDenied`` unless the member's agency and team may do ``operation`` on ``target``.

    ``config``: the configuration already read in this request (a page asks about several operations)."""
    if operation not in ACTING_OPERATIONS:
        return
    if not may_act_as_agency(membership, target):
        raise PermissionDenied("Your agency may see this target but not act on it.")
    if operation == "exam.record":
        if target.port_id not in port_ids_of(membership):
            raise PermissionDenied("This target is not dispatched to one of your ports.")
        return
    if operation in ROUTED_OPERATIONS:
        config = config or target.__dict__.get(_CONFIG) or CentreConfiguration.current()
        if not in_deciding_team(membership, target, config):
            raise PermissionDenied(
                f"{deciding_team_label(target, config)} decides on this target under the current operating model."
            )
        if operation == "target.approve" and config.four_eyes and membership.user_id in proposers_of(target):
            raise PermissionDenied(
                "Four eyes: you nominated or submitted this target, so another supervisor approves it."
            )


#: Set on a target by the query that loaded it for a move (``queries.take_move_context``): the centre's
#: configuration that query read, in place of reading it again for the move's checks.
_CONFIG = "_ratc_config"


def note_config(target: Any, config: CentreConfiguration) -> None:
    """The centre's configuration read with ``target`` in this request (``queries.move_context``)."""
    target.__dict__[_CONFIG] = config


def note_proposers(target: Any, proposers: set[int]) -> None:
    """The proposers of ``target`` as it is now, read with it (``queries.move_context``)."""
    target.__dict__["_ratc_proposers"] = (target.version, proposers)


def proposers_of(target: Any) -> set[int]:
    """The people who nominated the target or submitted it for approval (four eyes keeps them off approval)."""
    version, cached = target.__dict__.get("_ratc_proposers", (None, None))
    if cached is None or version != target.version:
        from apps.targeting.models import TargetState, Transition

        submitted = Transition.objects.filter(
            target_id=target.pk, to_state=TargetState.AWAITING_APPROVAL, actor_id__isnull=False
        ).values_list("actor_id", flat=True)
        cached = {*submitted, *([target.nominated_by_id] if target.nominated_by_id else [])}
        target.__dict__["_ratc_proposers"] = (target.version, cached)
    return cached


def is_national_staff(membership: Any) -> bool:
    return membership is not None and membership.role != Role.FRONTLINE and not port_ids_of(membership)


def is_port_team(membership: Any) -> bool:
    """A member of a port's own team: has ports and is not a frontline officer or a system."""
    return membership.role not in PORT_BOUND_ROLES and bool(port_ids_of(membership))


def port_team_q(membership: Any, config: CentreConfiguration | None = None) -> Q:
    """What a port team member sees of the targets his agency may see, under the operating model."""
    config = config or CentreConfiguration.current()
    at_ports = Q(port_id__in=sorted(port_ids_of(membership)))
    executing = Q(state__in=sorted(EXECUTION_STATES)) | Q(
        state=S.ON_HOLD, resume_state__in=sorted(EXECUTION_STATES)
    )
    if config.operating_model == OperatingModel.DECENTRALISED:
        local = at_ports
    elif config.operating_model == OperatingModel.HYBRID:
        local = at_ports & (Q(scope=PORT) | executing)
    else:
        local = at_ports & executing
    return local | Q(nominated_by_id=membership.user_id)


def rule_ports_for(membership: Any, ports: list[str], config: CentreConfiguration | None = None) -> list[str]:
    """The ports a rule written by ``membership`` applies at, or an error naming why it may not.

    National staff write national rules (no ports) or rules for any ports. A port team writes only under
    the decentralised and hybrid models, and only for its own ports (none given: all of its ports).
    """
    if not port_ids_of(membership):
        return ports
    config = config or CentreConfiguration.current()
    if config.operating_model == OperatingModel.CENTRALISED:
        raise PermissionDenied(
            "Under the centralised operating model the national centre writes the rules; port teams execute."
        )
    own = sorted(p.locode for p in membership.ports.all())
    if not ports:
        return own
    if outside := sorted(set(ports) - set(own)):
        raise ValidationError(
            {
                "ports": f"Ports: your team writes rules for its own ports ({', '.join(own)}), not {', '.join(outside)}."
            }
        )
    return ports


def engine_scope(components: list[dict[str, Any]]) -> str:
    """Whose queue the engine's nomination goes to under the hybrid model, from what fired.

    National policy first: a national rule or a watchlist match makes a national target. A port rule's
    hit alone (with or without a model score) makes a port target. A model score or a random draw alone
    is the national centre's.
    """
    fired = [c for c in components if not c.get("shadow") and c.get("kind") in {"rule", "watchlist"}]
    if not fired:
        return NATIONAL
    if any(c["kind"] == "watchlist" or c.get("scope", NATIONAL) == NATIONAL for c in fired):
        return NATIONAL
    return PORT


def what_you_see(membership: Any, config: CentreConfiguration | None = None) -> str:
    """One sentence for the top of a target list: which targets this viewer sees, and why."""
    if membership is None:
        return ""
    if membership.role in PORT_BOUND_ROLES:
        return "The targets sent to your ports for examination."
    if not is_port_team(membership):
        return "Every target owned by or shared with your agency."
    config = config or CentreConfiguration.current()
    ports = ", ".join(sorted(p.locode for p in membership.ports.all()))
    if config.operating_model == OperatingModel.DECENTRALISED:
        said = f"Every target at your ports ({ports}): under the decentralised model your team targets and approves for them"
    elif config.operating_model == OperatingModel.HYBRID:
        said = (
            f"Your ports' own targets ({ports}) from nomination, and national ones once approved: under the hybrid "
            "model each hit goes to the team of the rule that fired"
        )
    else:
        said = (
            f"Your ports' targets ({ports}) once the national centre has approved them: under the centralised "
            "model it decides and your team executes"
        )
    return f"{said}; and any target you nominated."
