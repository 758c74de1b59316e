"""Base pieces for API views: every queryset goes through ``visible_to`` and each action names its operation."""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from apps.agencies.operations import can


class ScopedViewSetMixin:
    """Narrows ``queryset`` with ``visible_to(request.user)`` and checks a named operation per action.

    ``operations`` maps a DRF action to an operation name; ``"*"`` is the default. An object outside the
    scope is simply not in the queryset, so DRF answers 404, exactly as for an object that does not exist.
    """

    operations: dict[str, str] = {}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        operation = self.operations.get(self.action or "", self.operations.get("*"))
        if operation and not can(request.user, operation):
            raise ApiPermissionDenied(f"Your role may not perform {operation}.")


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
