"""The API's default permission and token authentication. Kept apart from the views so DRF can import
them at settings time (models are imported inside the methods, once the apps are ready)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from apps.agencies.operations import membership_of


class IsMember(permissions.BasePermission):
    """Only signed-in people (or system accounts) with an agency membership reach the API."""

    message = "You need an agency membership to use this API."

    def has_permission(self, request, view) -> bool:
        return membership_of(request.user) is not None


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <secret>`` (or ``Bearer <secret>``) against the hashed ``ApiToken`` table.

    Replaces DRF's clear-text ``TokenAuthentication``. A revoked, expired or unknown token is refused
    outright (not treated as anonymous), so that a port system learns at once that it must rotate.
    """

    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: send 'Authorization: Token <token>'."
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        from apps.agencies import tokens
        from apps.core.security import client_address

        try:
            token = tokens.authenticate(
                secret, ip=client_address(request) or None, method=request.method, path=request.path
            )
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema (registered on import, as DRF loads the authentication class)."""

    target_class = "apps.agencies.drf.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A system account\'s API token, sent as "Token <token>" (or "Bearer <token>").',
        }
