"""Template helpers of the learning loop: percentages, and a subject's stored model explanation.

``{% load learning %}{% model_explanation subject as explanation %}
{% include "learning/_explanation.html" with explanation=explanation %}``
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.1234 → "12.3 %"; empty for a missing value."""
    if value is None or value == "":
        return "\u2013"
    try:
        return f"{100 * float(value):.{int(digits)}f} %"
    except (TypeError, ValueError):
        return "\u2013"


@register.simple_tag
def model_explanation(subject: Any) -> list[dict[str, Any]] | None:
    """The top features of the subject's latest model score (see ``apps.learning.scoring.explanation_for``)."""
    from apps.learning.scoring import explanation_for

    return explanation_for(subject)


@register.simple_tag
def model_component(subject: Any) -> dict[str, Any] | None:
    """The whole model component of the subject's latest assessment (probability, or why not applied)."""
    from apps.learning.scoring import model_component_for

    return model_component_for(subject)


@register.filter
def get_metric(metrics: dict[str, Any] | None, name: str) -> Any:
    """``metrics["precision@5%"]`` (names with ``@`` and ``%`` cannot be looked up with a dot)."""
    return (metrics or {}).get(name)
