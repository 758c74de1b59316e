"""How a page's action (one POST, one URL) ends: a message for the person and the way back.

An action view validates its form (:func:`cleaned`), makes its one change through a service and
returns what to tell the person. The :func:`acting` decorator turns what the services refuse with into
an error message instead of an error page: ``PermissionDenied`` (and the refusals built on it, such as
``TransitionRefused``), ``ValidationError`` (an invalid form names its field) and each app's "someone
changed it first" exception (``also=``, e.g. ``StaleChange``: core does not import the apps above it).
Either way the answer goes back to the form's ``next`` field if it is on this site, else to ``back`` (a
redirect, or for htmx an ``HX-Redirect`` so the whole page shows the message).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

#: What an action view returns: the message for the person ("" for none), or its own answer.
Done = str | HttpResponseBase
ActionView = Callable[..., Done]
View = Callable[..., HttpResponseBase]


def refusal_text(error: Exception) -> str:
    """The words of a refusal, for a message (a ``ValidationError``'s messages, not its repr)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def cleaned(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data, or a ``ValidationError`` whose words name each field that is wrong."""
    if form.is_valid():
        return form.cleaned_data
    problems = []
    for name, errors in form.errors.items():
        for text in errors:
            where = "" if name == NON_FIELD_ERRORS else f" (field “{name}”)"
            problems.append(f"{str(text).rstrip('.')}{where}.")
    raise ValidationError(" ".join(problems))


def next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` field of the post if it is a URL of this site, else ``default``."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def go_back(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect to ``url``; for an htmx request (not a boosted one) the client is told to go there."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def acting(
    back: Callable[..., str], *, also: tuple[type[Exception], ...] = ()
) -> Callable[[ActionView], View]:
    """Decorate an action view: its message (or refusal) becomes a flash message and the answer a way
    back to ``back(request, *args, **kwargs)`` (the view's own arguments) or the post's ``next``.

    ``Http404`` is not caught: what the person may not see stays missing, exactly as a missing id.
    """
    refusals: tuple[type[Exception], ...] = (PermissionDenied, ValidationError, *also)

    def decorate(view: ActionView) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                done = view(request, *args, **kwargs)
            except refusals as error:
                messages.error(request, refusal_text(error))
                done = ""
            if isinstance(done, HttpResponseBase):
                return done
            if done:
                messages.success(request, done)
            return go_back(request, next_url(request, back(request, *args, **kwargs)))

        return wrapper

    return decorate


def acting_on(
    load: Callable[[Any, int], Any], back: Callable[..., str], *, also: tuple[type[Exception], ...] = ()
) -> Callable[[ActionView], View]:
    """Decorate an action on one object (``<pk>/<action>/``): signed in, POST only, the object loaded by
    ``load(request, pk)`` through the person's scope (a 404 there stays a 404), then :func:`acting` with
    ``back(request, obj)``. The view is called as ``view(request, obj, **kwargs)``."""

    def decorate(view: ActionView) -> View:
        act = acting(back, also=also)(view)

        @login_required
        @require_POST
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponseBase:
            return act(request, load(request, pk), **kwargs)

        return wrapper

    return decorate
