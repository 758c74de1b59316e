"""A world around one traveller whose personal data are sentinels: strings found nowhere else.

A PNR traveller with a sentinel name, date of birth, document number and booking reference, received
through a message row, linked to a co-traveller, screened against a watchlist (a fuzzy hit on a spelling
of the name, so the list's own entry holds no sentinel), assessed by the engine (which nominates him),
dispatched to a port with an instruction, held, commented and examined. The gate and retention tests
ask every route and every table whether a sentinel shows.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from apps.intake.models import Message, Subject, SubjectKey, SubjectLink
from tests.factories import DataSourceFactory, member
from tests.watchlists.helpers import make_entry, make_list

SURNAME = "QUOXBERRY"
GIVEN = "Zephyrine"
DOB = "1971-03-14"
DOCUMENT = "XQ7731946"
BOOKING = "QK9ZPL"
FULL_NAME = f"{SURNAME}, {GIVEN}"
#: What must never reach a person without a declared purpose (matched case-insensitively).
SENTINELS = (SURNAME, GIVEN, DOB, DOCUMENT, BOOKING)


def found_sentinels(text: str) -> list[str]:
    lowered = text.lower()
    return [s for s in SENTINELS if s.lower() in lowered]


def traveller_facts(**extra: Any) -> dict[str, Any]:
    return {
        "surname": SURNAME, "given_names": GIVEN, "full_name": f"{GIVEN} {SURNAME}", "date_of_birth": DOB,
        "document_number": DOCUMENT, "booking_ref": BOOKING, "flight_number": "SQ322", "nationality": "SG",
        "age": 55, **extra,
    }  # fmt: skip


def build(world: Any, *, received_at=None) -> SimpleNamespace:
    """Everything made around the sentinel traveller; ``received_at`` dates his data (retention)."""
    from apps.frontline.models import ExaminationResult
    from apps.risk.services import assess_subjects
    from apps.targeting.models import Comment, Hold, Instruction, Target

    received_at = received_at or timezone.now()
    source = DataSourceFactory(owner_agency=world.customs, kind="pnr", name="Sentinel PNR")
    message = Message.objects.create(
        source=source, format="pnrgov", message_key=f"PNR:{BOOKING}:{SURNAME}:1", business_key=f"PNR:{BOOKING}",
        file_name=f"pnr-{BOOKING}.edi",
    )  # fmt: skip
    Message.objects.filter(pk=message.pk).update(received_at=received_at)
    traveller = Subject.objects.create(
        kind="traveller", source=source, owner_agency=world.customs, message=message,
        external_id=f"pnr:{BOOKING}:{SURNAME}", title=f"{FULL_NAME} on SQ322", port=world.port_b,
        arrival_at=received_at + timezone.timedelta(hours=12), received_at=received_at,
        facts=traveller_facts(),
        details={"passenger": {"surname": SURNAME, "given_names": GIVEN, "date_of_birth": DOB,
                               "documents": [{"number": DOCUMENT}]}, "booking": {"locator": BOOKING}},
    )  # fmt: skip
    companion = Subject.objects.create(
        kind="traveller", source=source, owner_agency=world.customs, external_id=f"pnr:{BOOKING}:PLAIN",
        title="PLAIN, Anne on SQ322", port=world.port_b, received_at=received_at,
        arrival_at=received_at + timezone.timedelta(hours=12),
        facts={"surname": "PLAIN", "given_names": "ANNE", "flight_number": "SQ322", "nationality": "GB"},
    )  # fmt: skip
    SubjectKey.objects.create(subject=traveller, key="doc:sentinel-hash")
    for a, b in ((traveller, companion), (companion, traveller)):
        SubjectLink.objects.create(from_subject=a, to_subject=b, kind="co_traveller", reason="same booking")

    # The list's entry is spelt differently: a fuzzy match, so no sentinel lives in the list itself.
    watchlist = make_list(world.customs, name="Sentinel lookouts", risk_area="narcotics")
    entry = make_entry(watchlist, "Zefirine Quoxbery", nationalities=["SG"])
    [assessment] = assess_subjects([traveller.pk])
    target = Target.objects.get(subject=traveller)
    author = member("sentinel-author", world.customs, "supervisor")
    hold = Hold.objects.create(target=target, agency=world.customs, placed_by=author, reason="wait")
    comment = Comment.objects.create(target=target, author=author, owner_agency=world.customs, body="seen")
    Target.objects.filter(pk=target.pk).update(state="dispatched", port=world.port_b)
    instruction = Instruction.objects.create(
        target=target, port=world.port_b, method="interview", instruction="Interview at the gate.",
        dispatched_by=author,
    )  # fmt: skip
    now = timezone.now()
    result = ExaminationResult.objects.create(
        target=target, instruction=instruction, idempotency_key=uuid.uuid4(), method="interview",
        outcome="no_finding", started_at=now, ended_at=now, recorded_by=author, recorded_by_agency=world.customs,
    )  # fmt: skip
    return SimpleNamespace(
        source=source, message=message, traveller=traveller, companion=companion, watchlist=watchlist,
        entry=entry, assessment=assessment, target=target, hold=hold, comment=comment,
        instruction=instruction, result=result,
    )  # fmt: skip
