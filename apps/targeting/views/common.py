"""What the targeting views share: the lists' queryset and how an action on a target is loaded and ends."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.core.actions import acting_on
from apps.core.requests import AuthedRequest
from apps.targeting.models import Target
from apps.targeting.queries import loaded_through_scope
from apps.targeting.services import StaleChange

PAGE_SIZE = 50


def list_queryset(user: Any) -> Any:  # a TargetQuerySet (with_urgency, breaching)
    # No subject: the lists show none of it, and joining the subjects table costs more than the page.
    return Target.objects.visible_to(user).select_related("port", "owner_agency", "claimed_by")


def detail_url(request: HttpRequest, target: Target) -> str:
    return reverse("targeting:detail", args=[target.pk])


def _target(request: AuthedRequest, pk: int) -> Target:
    check(request.user, "target.view")
    target = get_object_for(request.user, Target.objects.select_related("owner_agency", "port"), pk=pk)
    return loaded_through_scope(target, request.user)  # the action's service need not ask visibility again


#: An action on one target (``<pk>/<action>/``): by someone who may view targets, on a target in the
#: person's scope (else 404, as a missing id); what the service refuses, or a change someone else made
#: first, comes back as a message on the target's page (or the post's ``next``).
on_target = acting_on(_target, detail_url, also=(StaleChange,))
