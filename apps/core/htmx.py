"""One helper decides whether a view answers with its whole page or one named fragment of it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_fragment(
    request: HttpRequest, template: str, context: dict[str, Any], *, fragment: str | None = None
) -> HttpResponse:
    """Render ``template``; for an htmx request that is not a boosted navigation, only ``fragment``.

    Fragments are django-template-partials partials of the page template (``page.html#fragment``), so a
    page and its live updates are drawn by the same markup.
    """
    htmx = getattr(request, "htmx", None)
    if fragment and htmx and not htmx.boosted:
        return render(request, f"{template}#{fragment}", context)
    return render(request, template, context)
