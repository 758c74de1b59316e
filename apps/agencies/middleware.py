"""Attach the signed-in user's membership to the request, loaded once and only when asked for."""

from django.utils.functional import SimpleLazyObject

from apps.agencies.operations import membership_of


class MembershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: membership_of(request.user))
        return self.get_response(request)
