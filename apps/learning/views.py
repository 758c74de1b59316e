"""Pages of the learning loop: model versions, a version's metrics and drift, training runs.

Thin: the services check the actor and do the work; views read, call a service, and render.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from apps.agencies.operations import can, check
from apps.core.actions import acting
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.learning import services
from apps.learning.drift import WARNING_THRESHOLD
from apps.learning.forms import TrainingForm
from apps.learning.models import ModelStatus, TrainingRun
from apps.learning.presentation import metric_rows

ACTIONS = {
    "activate": services.activate_version,
    "retire": services.retire_version,
    "rollback": services.roll_back,
}


@login_required
def models(request: AuthedRequest) -> HttpResponse:
    """Every model version of the agency with its headline metrics, recent training, and the form."""
    versions = services.visible_versions(request.user)
    runs = TrainingRun.objects.visible_to(request.user).select_related("model_version", "requested_by")[:10]
    may_train = can(request.user, "model.train")
    context = {
        "versions": versions,
        "runs": runs,
        "form": TrainingForm(user=request.user) if may_train else None,
        "may_train": may_train,
    }
    return render(request, "learning/models.html", context)


@login_required
@require_POST
def start_training(request: AuthedRequest) -> HttpResponse:
    """Queue a training run from the form and go to its progress page."""
    check(request.user, "model.train")
    form = TrainingForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            run = services.submit_training(
                actor=request.user,
                sources=form.cleaned_data["sources"],
                activate=form.cleaned_data["activate"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return redirect("learning:training", pk=run.pk)
    else:
        messages.error(request, "Choose at least one data source to learn from.")
    return redirect("learning:models")


def _back_to_version(request: HttpRequest, pk: int) -> str:
    return reverse("learning:model", args=[pk])


def version_move(action: str) -> Callable[..., HttpResponseBase]:
    """The view of one button of a version (``ACTIONS``: activate, retire, roll back), at its own URL; a
    refusal comes back as a message on the version's page."""

    @login_required
    @require_POST
    @acting(_back_to_version)
    def view(request: AuthedRequest, pk: int) -> str:
        version = services.get_version_for(request.user, pk)
        changed = ACTIONS[action](actor=request.user, version=version)
        return f"{changed} is now {changed.get_status_display().lower()}."

    view.__name__ = view.__qualname__ = f"version_{action}"
    return view


@login_required
@require_safe
def model_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A version's metrics, feature importance and drift; risk managers activate, retire or roll back
    (each button posts to ``version_move``'s URL)."""
    version = services.get_version_for(request.user, pk)
    drift = services.latest_drift(version)
    context = {
        "version": version,
        "metric_rows": metric_rows(version.metrics),
        "importance": version.importance[:15],
        "drift": drift,
        "drift_threshold": WARNING_THRESHOLD,
        "may_activate": can(request.user, "model.activate"),
        "previous": services.previous_version(version) if version.status == ModelStatus.ACTIVE else None,
        "runs": version.runs.all()[:5],
    }
    return render(request, "learning/model_detail.html", context)


@login_required
def training(request: AuthedRequest, pk: int) -> HttpResponse:
    """A training run's progress; the bar polls itself with htmx every second until the run ends."""
    run = services.get_run_for(request.user, pk)
    return render_page_or_fragment(request, "learning/training.html", {"run": run}, fragment="progress")
