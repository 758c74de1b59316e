"""Every change to a target, as one function with an actor: the only way pages, the API and tasks change one.

Each function checks the actor first (role, agency, routing), changes state by a conditional UPDATE on
``(pk, state, version)`` inside a transaction, writes an append-only ``Transition`` and publishes
ids-only events after commit. A change that lost a race raises ``StaleChange`` with a message that
names who moved the target first.

One module per concern; callers keep using ``from apps.targeting import services`` and
``services.<name>``, which this package names:

- ``moves``: the one conditional change (``_move``), the history row, the events, ``StaleChange``;
- ``nomination``: a subject becomes a target;
- ``workflow``: review, approval, rejection, withdrawal, examination, result, closing, missed;
- ``dispatching``: instructions to ports, one at a time or as a shift's proposal;
- ``claims``, ``holds``, ``sharing``, ``comments`` (with ``attachments``), ``operations``;
- ``actions``: a transition by the name pages and the API give it.
"""

from __future__ import annotations

# Re-exported for callers that catch or check these through ``services`` (tests, views).
from django.core.exceptions import PermissionDenied, ValidationError

from apps.targeting.models import DispatchProposal
from apps.targeting.services.actions import run_action
from apps.targeting.services.attachments import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES
from apps.targeting.services.claims import claim_target, expire_claims, release_claim
from apps.targeting.services.comments import MENTION, add_comment
from apps.targeting.services.dispatching import (
    accept_proposal,
    default_instruction,
    dispatch_target,
    propose_dispatch,
)
from apps.targeting.services.holds import HOLDABLE_STATES, place_hold, release_hold
from apps.targeting.services.moves import (
    RANDOM_CONTROL_DONE,
    RANDOM_CONTROL_REFUSAL,
    StaleChange,
    TransitionRefused,
)
from apps.targeting.services.nomination import REASON_KINDS, nominate, nominate_target
from apps.targeting.services.operations import add_to_operation, create_operation
from apps.targeting.services.sharing import give_consent, share_target
from apps.targeting.services.workflow import (
    approve_target,
    close_target,
    mark_missed,
    missable_states,
    record_result,
    reject_target,
    start_examination,
    start_review,
    submit_for_approval,
    withdraw_target,
)

Proposal = DispatchProposal

__all__ = [
    "ATTACHMENT_TYPES",
    "HOLDABLE_STATES",
    "MAX_ATTACHMENT_BYTES",
    "MENTION",
    "RANDOM_CONTROL_DONE",
    "RANDOM_CONTROL_REFUSAL",
    "REASON_KINDS",
    "DispatchProposal",
    "PermissionDenied",
    "Proposal",
    "StaleChange",
    "TransitionRefused",
    "ValidationError",
    "accept_proposal",
    "add_comment",
    "add_to_operation",
    "approve_target",
    "claim_target",
    "close_target",
    "create_operation",
    "default_instruction",
    "dispatch_target",
    "expire_claims",
    "give_consent",
    "mark_missed",
    "missable_states",
    "nominate",
    "nominate_target",
    "place_hold",
    "propose_dispatch",
    "record_result",
    "reject_target",
    "release_claim",
    "release_hold",
    "run_action",
    "share_target",
    "start_examination",
    "start_review",
    "submit_for_approval",
    "withdraw_target",
]
