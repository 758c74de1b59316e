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

#: What an officer looks for in an examination for each risk area: the general words every instruction
#: of that area starts with, whatever selected the target (a rule, the model, a person or the random
#: control), so that the instruction never tells how it was chosen.
EXAMINATION_FOCUS: dict[str, str] = {
    RiskArea.NARCOTICS: "Look for concealed drugs: false walls, floors and pallets, re-packed or re-sealed "
    "goods, weight or density that does not fit the declared goods.",
    RiskArea.WEAPONS: "Look for firearms, their parts and ammunition: dense or shaped items in the scan, goods "
    "that do not fit the declaration.",
    RiskArea.SECURITY: "Check the conveyance, its crew and its cargo against the declarations; report anything "
    "that cannot be explained.",
    RiskArea.REVENUE: "Check the goods against the declared description, quantity, value, origin and tariff "
    "code; keep copies of invoices that do not match.",
    RiskArea.IPR: "Check brands, labels and packaging for counterfeits; note the marks and the quantities.",
    RiskArea.CITES: "Look for protected animals and plants and their products, and check the permits.",
    RiskArea.SPS: "Look for plant and animal products, pests and soil, and check the certificates.",
    RiskArea.STRATEGIC: "Check for controlled and dual-use goods against the declared description and the "
    "licence.",
    RiskArea.CURRENCY: "Look for undeclared cash and monetary instruments above the declaration threshold.",
    RiskArea.PEOPLE_SMUGGLING: "Look for concealed people; check the travellers' documents and their account "
    "of the journey.",
    RiskArea.IMMIGRATION: "Check the traveller's documents, the purpose of the journey and the onward travel.",
}


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
