"""Disclosure: what one viewer may read of one target. The one rule every renderer asks.

``visible_to`` decides whether a viewer sees a target at all; this package decides what of it he reads
once he does: the subject's personal fields, the reasons, the history's free texts, hold reasons, the
joint operation's name, and — for a frontline officer — no more than his briefing. Pages, htmx
partials, the history page and CSV, the API's serializers, the tablet and exports render only what
``disclose`` returned, so a withheld string cannot reach a renderer by accident.

The rules, in one place:

- **Personal fields** follow the source's legal basis and depersonalisation (``masking.may_see_personal``).
  A frontline officer sees the subject's name and reference and the facts that help find the goods or
  the person (``BRIEFING_FACTS``), never a date of birth or a document number.
- **Reasons**: a watchlist match is withheld (not even its entry) from an agency that may not see the
  list; watchlist and free-text ("person") reasons are withheld where personal fields are; a frontline
  officer reads no reason and no count of them (a draw for random control has none of a risk target's,
  so any would tell him it was drawn, and he would examine it less thoroughly): the instruction is what
  he is told. What fired — a rule's condition, a model's features and probability — is read only by a
  role that may read rules or models (``rule.view``, ``model.view``) in an agency that may see that rule
  or model; everyone else reads the reason's plain line (``plain_reason``), which names no condition,
  feature or watched identifier.
- **History** free texts belong to the agency that wrote them: the actor's agency reads them, and so
  does the owner agency, except a hold's reason, which only the holding agency reads (a controlled
  delivery is the holder's secret). A sharing line says no more than the sharing panel: everyone reads it. The nomination's text is a "person" reason and follows that rule.
  Others read the move and "reason held by <agency>". A frontline officer reads the moves from dispatch
  on, never a reason written on the floor.
- **Joint operations** are named only to an agency that takes part (``JointOperation.visible_to``).
- **Holds**: every viewer of the target sees that it is held and by whom; only the holder reads why.
- **Examination results** (``results``): for roles that read examinations; outcome, goods, values and
  photos go to all of them, the officer's notes follow the history's rule, his name the history's too.

The package, one module per part of a target that is disclosed: ``base`` (the viewer, the subject, whose
words he reads, the joint operation), ``reasons``, ``history``, ``holds`` and ``results``; ``decision``
puts them together in ``Disclosure`` and holds ``disclose``, the one function every renderer asks.
"""

from apps.risk.random_control import random_control_agency
from apps.targeting.disclosure.base import BRIEFING_FACTS
from apps.targeting.disclosure.decision import (
    Disclosure,
    disclose,
    reads_briefing_only,
    shows_random_control,
)
from apps.targeting.disclosure.history import HistoryLine
from apps.targeting.disclosure.holds import HoldView
from apps.targeting.disclosure.reasons import ENGINE_REASON_KINDS, plain_reason
from apps.targeting.disclosure.results import GoodsLine, PhotoRef, ResultView, centre_currency

__all__ = [
    "BRIEFING_FACTS",
    "ENGINE_REASON_KINDS",
    "Disclosure",
    "GoodsLine",
    "HistoryLine",
    "HoldView",
    "PhotoRef",
    "ResultView",
    "centre_currency",
    "disclose",
    "plain_reason",
    "random_control_agency",
    "reads_briefing_only",
    "shows_random_control",
]
