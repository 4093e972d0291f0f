"""Token sign-in for the REST API: ``Authorization: Token ct_…`` (or ``Bearer ct_…``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import tokens

SCHEMES = (b"token", b"bearer")


class TokenAuthentication(authentication.BaseAuthentication):
    """A request signed with one of an account's tokens acts as that account. An inactive
    account's tokens are refused like unknown ones (they say nothing of why)."""

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Give one token after the word Token.")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("That is not a CallTally token.") from None
        token = tokens.find(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        tokens.touch(token)
        return token.user, token

    def authenticate_header(self, request):
        # A 401 (not 403) for a request without credentials, naming the scheme to use.
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):
    """The token scheme as the OpenAPI schema describes it."""

    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token ct_…`: a token made on the API tokens page or with "
                               "`calltally api token create USERNAME NAME`."}
