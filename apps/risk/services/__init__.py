"""Services of the risk engine: writing rules, moving them through their lifecycle, assessing subjects.

Every function that acts for a person takes ``actor`` and checks a named operation first
(``rule.view``, ``rule.edit``, ``rule.publish``); pages, the API and tasks all call these. The engine's
own work (:func:`assess_subjects`) runs without a person: intake calls it after commit, through the
Celery task in :mod:`apps.risk.tasks`.

One module per concern: ``reading`` (rules, hits and assessments as the actor may see them),
``writing`` (a rule and its versions), ``lifecycle`` (draft, shadow, active, retired), ``assessing``
(scoring subjects) and ``nominating`` (the targets an assessment nominates). Callers keep using
``from apps.risk import services`` and ``services.<name>``.
"""

from apps.risk.services.assessing import ASSESS_CHUNK, FORMULA, assess_subjects
from apps.risk.services.lifecycle import TRANSITIONS, activate_rule, publish_rule_to_shadow, retire_rule
from apps.risk.services.reading import (
    explanation_for,
    get_assessment_for,
    get_rule_for,
    recent_hits,
    rule_hit_counts,
    visible_rules,
)
from apps.risk.services.writing import VERSION_FIELDS, create_rule, update_rule

__all__ = [
    "ASSESS_CHUNK",
    "FORMULA",
    "TRANSITIONS",
    "VERSION_FIELDS",
    "activate_rule",
    "assess_subjects",
    "create_rule",
    "explanation_for",
    "get_assessment_for",
    "get_rule_for",
    "publish_rule_to_shadow",
    "recent_hits",
    "retire_rule",
    "rule_hit_counts",
    "update_rule",
    "visible_rules",
]
