"""Frontline examination: the officer's instructions, recording a result, correcting it, and feedback.

Pages and the API only parse input and call these functions. Recording:

1. a known idempotency key returns the result already stored for it (a retry never records twice);
2. the officer must be a frontline officer of the target's port (``exam.record``, via targeting);
3. the target moves through ``apps.targeting.services`` (``start_examination`` when it was not started
   online, then ``record_result``);
4. the result, its goods and photos are stored; one ``intake.Outcome`` row is written for the learning
   loop and reports; each rule version, watchlist entry and model version behind the target gets an
   ``ExaminationFeedback`` row; agencies the target is shared with are told (ids only), after commit.


One module per concern: ``officers`` (the officer's list and briefing), ``displayed`` (results as shown),
``checking`` (the input checked), ``recording`` (record and correct) and ``feedback`` (feedback rows,
partners told, outcome counts).
"""

from __future__ import annotations

from apps.agencies.models import Shift
from apps.frontline.services.checking import (
    CLOCK_SKEW,
    MAX_DURATION,
    MAX_GOODS,
    Conflict,
    GoodsLine,
    Recorded,
    ResultInput,
)
from apps.frontline.services.displayed import displayed_result, history_of
from apps.frontline.services.feedback import followers_of, outcome_counts_for
from apps.frontline.services.officers import (
    OPEN_AT_PORT,
    SHIFT_HOURS,
    Briefing,
    S,
    briefing,
    current_shift,
    get_instruction_for,
    get_photo_for,
    officer_ports,
    open_instructions,
    other_shifts_count,
    recent_results,
)
from apps.frontline.services.recording import (
    begin_examination,
    correct_examination,
    may_correct,
    record_examination,
    refuse_if_recorded,
)

__all__ = [
    "CLOCK_SKEW",
    "MAX_DURATION",
    "MAX_GOODS",
    "OPEN_AT_PORT",
    "SHIFT_HOURS",
    "Briefing",
    "Conflict",
    "GoodsLine",
    "Recorded",
    "ResultInput",
    "S",
    "Shift",
    "begin_examination",
    "briefing",
    "correct_examination",
    "current_shift",
    "displayed_result",
    "followers_of",
    "get_instruction_for",
    "get_photo_for",
    "history_of",
    "may_correct",
    "officer_ports",
    "open_instructions",
    "other_shifts_count",
    "outcome_counts_for",
    "recent_results",
    "record_examination",
    "refuse_if_recorded",
]
