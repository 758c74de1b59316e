"""Targets and everything around them: the append-only history, sharing, holds, comments, instructions.

A target is a subject nominated for action (BRIEF capability 3). Its state only changes through the
functions in ``apps.targeting.services``, by a conditional UPDATE on ``(state, version)``, so that two
people never both move the same target and every move leaves a ``Transition`` row that is never
changed again.

One module per concern; this package's face imports every model, so that Django finds them (app
loading, migrations) and callers keep importing from ``apps.targeting.models``.
"""

from apps.targeting.models.choices import (
    AT_PORT_STATES,
    EXAMINATION_FOCUS,
    FINAL_STATES,
    OPEN_STATES,
    RISK_AREAS,
    UNDECIDED_STATES,
    HandlingCode,
    RiskArea,
    S,
    Scope,
    TargetState,
)
from apps.targeting.models.comments import Attachment, Comment
from apps.targeting.models.dispatch import DispatchProposal, ExaminationFocus, Instruction
from apps.targeting.models.history import AppendOnly, Transition
from apps.targeting.models.holds import Hold
from apps.targeting.models.operations import JointOperation
from apps.targeting.models.service_levels import (
    DECISION_LEAD,
    DECISION_WARNING,
    DEFAULT_SERVICE_LEVEL,
    SERVICE_LEVEL_WARNING_SHARE,
    SERVICE_LEVELS,
    URGENCY_STEPS,
    breach_q,
    decision_due,
    decision_due_expression,
    port_mode,
    service_level,
)
from apps.targeting.models.target import TARGET_ROW, Target, TargetQuerySet, TargetShare

__all__ = [
    "AT_PORT_STATES",
    "DECISION_LEAD",
    "DECISION_WARNING",
    "DEFAULT_SERVICE_LEVEL",
    "EXAMINATION_FOCUS",
    "FINAL_STATES",
    "OPEN_STATES",
    "RISK_AREAS",
    "SERVICE_LEVELS",
    "SERVICE_LEVEL_WARNING_SHARE",
    "TARGET_ROW",
    "UNDECIDED_STATES",
    "URGENCY_STEPS",
    "AppendOnly",
    "Attachment",
    "Comment",
    "DispatchProposal",
    "ExaminationFocus",
    "HandlingCode",
    "Hold",
    "Instruction",
    "JointOperation",
    "RiskArea",
    "S",
    "Scope",
    "Target",
    "TargetQuerySet",
    "TargetShare",
    "TargetState",
    "Transition",
    "breach_q",
    "decision_due",
    "decision_due_expression",
    "port_mode",
    "service_level",
]
