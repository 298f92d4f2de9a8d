"""API authentication classes (apart from library.auth: DRF imports these while
rest_framework.views is still loading, so this module must not import DRF's views)."""

from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, answering 401 for a key no token can have, and for a
    token older than LIBRARY_TOKEN_TTL days (library.tokens).

    DRF looks any key up as given; one with a NUL byte makes PostgreSQL refuse the query,
    which surfaced as a vague 400. Keys DRF issues are 40 hex digits.
    """

    def authenticate_credentials(self, key):
        if not (key.isascii() and key.isalnum() and len(key) <= 40):
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = super().authenticate_credentials(key)
        from library import tokens  # needs the app registry, which is loading at import time

        if tokens.is_expired(token):
            raise exceptions.AuthenticationFailed(
                "Token expired: get a new one from /api/v1/auth/token/.", code="token_expired"
            )
        return user, token
