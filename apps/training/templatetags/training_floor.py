"""The training floor's marks on every page: a banner (so nobody mistakes it for the live centre) and a link."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _on() -> bool:
    return bool(getattr(settings, "RATC_TRAINING", False))


@register.simple_tag
def training_head() -> SafeString:
    if not _on():
        return mark_safe("")
    return format_html('<link rel="stylesheet" href="{}">', static("training/training.css"))


@register.simple_tag(takes_context=True)
def training_banner(context: Any) -> SafeString:
    """On a training floor, a banner on every page, signed in or not; the running exercise named."""
    if not _on():
        return mark_safe("")
    running = ""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from apps.training.models import Exercise

        exercise = Exercise.objects.visible_to(user).filter(state=Exercise.State.RUNNING).first()
        if exercise is not None:
            running = format_html(
                ' — exercise running: <a href="{}">{}</a> (&times;{})',
                reverse("training:home"), exercise.title, f"{exercise.speed:g}",
            )  # fmt: skip
    return format_html(
        '<div class="training-banner" role="note" data-testid="training-banner"><strong>TRAINING FLOOR</strong>'
        " · an exercise installation with its own database: nothing here is real or reaches the live centre{}</div>",
        running,
    )


@register.simple_tag(takes_context=True)
def training_nav(context: Any) -> SafeString:
    """The training floor's entry in the navigation, on a training floor only."""
    if not _on():
        return mark_safe("")
    request = context.get("request")
    url = reverse("training:home")
    current = ' aria-current="page"' if request is not None and request.path == url else ""
    return format_html(
        '<div class="nav-section"><h2 class="nav-heading">Training</h2><ul><li><a href="{}"{}>Training floor</a>'
        "</li></ul></div>",
        url, mark_safe(current),  # noqa: S308 (a constant attribute)
    )  # fmt: skip
