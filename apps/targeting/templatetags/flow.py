"""The flow's buttons and links on pages of other apps: ``{% load flow %}``.

- ``{% nominate_button subject_id assessment=assessment_id %}``: "Open target T-…" when the subject has a
  live target the viewer may see, else "Nominate" for a role that may nominate, else nothing.
- ``{% assessment_button assessment_id %}``: a link to the assessment, for a role that reads them.
- ``{% entry_outcomes entry as found %}``: the targets and assessments that came of a watchlist entry,
  as far as the viewer may see them (``found.targets``, ``found.assessments``).

Each asks ``apps.targeting.flow``; nothing here decides who may see what.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.agencies.operations import can
from apps.targeting import flow

register = template.Library()


@register.simple_tag(takes_context=True)
def nominate_button(
    context: template.Context, subject_id: Any, assessment: Any = None, quiet: bool = False
) -> SafeString | str:
    """``quiet``: a plain button (in a long list, where a column of primary buttons would shout)."""
    request = context.get("request")
    if request is None or not subject_id:
        return ""
    opened = context.get("flow_open_targets")  # a view may read them for the whole page at once
    action = flow.nominate_action(
        request.user, int(subject_id), assessment_id=assessment or None, opened=opened
    )
    if action.open_target is not None:
        t = action.open_target
        return format_html(
            '<a class="btn btn-small" href="{}" data-testid="open-target">Open target {}</a>',
            reverse("targeting:detail", args=[t.pk]),
            t.reference,
        )
    if action.nominate_url:
        return format_html(
            '<a class="btn btn-small{}" href="{}" data-testid="nominate">Nominate</a>',
            "" if quiet else " btn-primary",
            action.nominate_url,
        )
    return ""


@register.simple_tag(takes_context=True)
def assessment_button(context: template.Context, assessment_id: Any) -> SafeString | str:
    """A link to an assessment for a role that reads assessments (``rule.view``), if it may see it."""
    request = context.get("request")
    if request is None or not assessment_id or not can(request.user, "rule.view"):
        return ""
    from apps.risk.models import Assessment

    if not Assessment.objects.visible_to(request.user).filter(pk=assessment_id).exists():
        return ""
    return format_html(
        '<a class="btn btn-small" href="{}" data-testid="link-assessment">Assessment</a>',
        reverse("risk:assessment", args=[assessment_id]),
    )


@register.simple_tag(takes_context=True)
def entry_outcomes(context: template.Context, entry: Any) -> flow.EntryOutcomes:
    request = context.get("request")
    if request is None:
        return flow.EntryOutcomes()
    return flow.entry_outcomes(request.user, entry)
