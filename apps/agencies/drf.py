"""The API's default permission. Kept apart from the views so DRF can import it at settings time."""

from rest_framework import permissions

from apps.agencies.operations import membership_of


class IsMember(permissions.BasePermission):
    """Only signed-in people (or system accounts) with an agency membership reach the API."""

    message = "You need an agency membership to use this API."

    def has_permission(self, request, view) -> bool:
        return membership_of(request.user) is not None
