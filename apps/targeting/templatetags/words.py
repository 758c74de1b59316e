"""Facts and codes in words on any page: ``{% load words %}``.

- ``{{ key|fact_label }}`` → "Booked before departure"
- ``{{ value|fact_value:key }}`` → "12 h", "Yes", "—"
- ``{% for f in facts|facts_in_words %}{{ f.label }} {{ f.text }}{% endfor %}`` (empty facts left out)
- ``{{ "ipr"|code_label }}`` → "Intellectual property"; ``{{ "red"|code_label:"channel" }}`` (vocabularies:
  risk_area, state, subject_kind, channel, rule_state, method, shift, handling)

The mapping lives in ``apps.targeting.words``.
"""

from __future__ import annotations

from typing import Any

from django import template

from apps.targeting import words

register = template.Library()


@register.filter
def fact_label(key: Any) -> str:
    return words.fact_label(key)


@register.filter
def fact_value(value: Any, key: Any = "") -> str:
    return words.fact_value(value, key)


@register.filter
def facts_in_words(facts: Any) -> list[words.FactLine]:
    return words.facts_in_words(facts)


@register.filter
def code_label(code: Any, vocabulary: str = "risk_area") -> str:
    return words.code_label(code, vocabulary)
