"""Capacity-aware selection (BRIEF capability 11): which approved targets to examine, by which method.

Each candidate target ``t`` has a probability of a finding ``p_t`` (its model score, or its priority as a
fallback) and each method ``m`` a detection rate for the target's risk area ``e[m][area]``; examining
``t`` by ``m`` is worth ``p_t * e[m][area]`` expected findings, both calibrated from recorded
examinations (below). Each target is examined by at most one method and each method has ``slots`` at
the port in the shift. Maximising the sum is an assignment problem with capacities, solved exactly with
``scipy.optimize.milp``: its constraint matrix is totally unimodular, so the simplex optimum of the
linear relaxation is already 0/1 (solved as integers only if it ever were not), quick even for
thousands of targets. The first-come-first-served plan is computed too, so the page shows what the optimum gains.

Random-control targets are not in that optimisation: their worth is what they measure (the base rate
the ledger's lift is read against), not their expected findings, and a score-driven plan would leave them
out as "capacity full" and bias the sample. They are dispatched first, in order of nomination, within a
reserved share of each method's slots (``random_reserve_share``); the optimisation fills the rest.

**Calibration from recorded examinations** (:class:`Calibration`). The worth of examining ``t`` by ``m``
is ``v(t, m) = q(p_t) · e(m, area) · c(m, area, port)``, where ``p_t`` is the raw probability above,
``e`` the hard-coded table ``DETECTION``, and ``q`` and ``c`` are corrections fitted from the recorded
examinations of the last ``CALIBRATION_DAYS`` (each examination once, with its latest correction;
grouped by method, risk area, port and score band in one query). With nothing recorded ``q(p) = p`` and
``c = 1``: the old values exactly.

- **Detection** ``c``, for a cell whose examinations give ``f`` findings in ``n`` where the current model
  expects ``E`` (``v̄ = E/n`` each): a beta-binomial posterior mean of the cell's finding rate with a
  prior centred on its parent's prediction ``v̄ · c_parent`` and worth ``κ = KAPPA_CELL`` examinations,
  ``rate = (f + κ·v̄·c_parent) / (n + κ)``, so ``c = rate / v̄ = (f + κ·v̄·c_parent) / (E + κ·v̄)``.
  The hierarchy: the port's cell (method, area, port) shrinks to the national one (method, area, all
  ports), which shrinks to the method's, which shrinks to the table (``c = 1``). A port with a few
  examinations keeps mostly the national rate; with hundreds, its own. Comparing with what the model
  expects of the *same* targets (indirect standardisation) keeps a method that is given the best targets
  from looking better than it is.
- **Score** ``q``: targets are put in tenths of ``p`` (bands); a band's correction is the same posterior
  mean (prior "the score is right", ``g = 1``, worth ``KAPPA_BAND`` examinations) of its findings against
  what the calibrated detection expects of its examinations; the band probabilities ``g_b · p̄_b`` are
  then made non-decreasing by pooling adjacent violators (weighted by examinations + prior; bands with
  no examination take no part), because a higher score must never mean a lower chance. ``q`` is linear
  between the bands' points (mean raw ``p``, calibrated probability) and proportional to ``p`` beyond the
  first and last, so it is non-decreasing everywhere. Binned and shrunk rather than a fitted curve: few
  assumptions, sound with few examinations per band, cheap to explain.
- ``q`` and ``c`` are fitted alternately (``ROUNDS`` times; both are shrunk to 1, which fixes the scale
  between them). Only their product decides the plan; the page shows each cell's recorded rate.

Outcomes exist only for what was examined, so the calibration describes targets like those the centre
examines: the approved targets the dispatcher chooses among, which is the population it is used on.

**Capacity** of a port, date and shift is the weekly default (``PortCapacity``) with each method's slots
replaced by the calendar's (``CapacityDay``) where the day has a row, minus the instructions of that date
and shift still waiting at the port.


One module per concern: ``methods`` (detection by method, candidates and plans), ``calibration`` (the
probability of a finding, calibrated on recorded examinations), ``plans`` (the plans: optimal, first
come, random reserve) and ``proposal`` (capacity and the proposal built).
"""

from __future__ import annotations

from apps.targeting.dispatch.calibration import (
    BANDS,
    CALIBRATION_DAYS,
    KAPPA_BAND,
    KAPPA_CELL,
    ROUNDS,
    Basis,
    Calibration,
    Cell,
    ExamCount,
    band_of,
    recorded_counts,
    table_rate,
)
from apps.targeting.dispatch.methods import (
    ALL_METHODS,
    DEFAULT_DETECTION,
    DETECTION,
    SUITABLE,
    Candidate,
    M,
    Plan,
)
from apps.targeting.dispatch.plans import (
    first_come_plan,
    optimal_plan,
    random_control_plan,
    random_reserve_share,
    reserved_slots,
)
from apps.targeting.dispatch.proposal import build_proposal, capacity_for, free_capacity
from apps.targeting.dispatch.values import detection_rates, finding_probability, method_values

__all__ = [
    "ALL_METHODS",
    "BANDS",
    "CALIBRATION_DAYS",
    "DEFAULT_DETECTION",
    "DETECTION",
    "KAPPA_BAND",
    "KAPPA_CELL",
    "ROUNDS",
    "SUITABLE",
    "Basis",
    "Calibration",
    "Candidate",
    "Cell",
    "ExamCount",
    "M",
    "Plan",
    "band_of",
    "build_proposal",
    "capacity_for",
    "detection_rates",
    "finding_probability",
    "first_come_plan",
    "free_capacity",
    "method_values",
    "optimal_plan",
    "random_control_plan",
    "random_reserve_share",
    "recorded_counts",
    "reserved_slots",
    "table_rate",
]
