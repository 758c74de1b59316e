"""The words of the floor: risk areas, target states (and the sets the queues and rules read), the
operating model's scope and the handling codes of sharing."""

from __future__ import annotations

from django.db import models


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
