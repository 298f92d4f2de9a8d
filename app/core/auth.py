"""Who is calling the API: token authentication, with tokens that expire.

DRF's tokens never expire on their own, so a token copied once from a laptop or a log works
for ever. Here a token works for LIBRARY_TOKEN_TTL days after it is issued; an expired one is
refused (401 `token_expired`), signing in at the token endpoint (core.signin) issues a new
one, and `manage.py rotate_token USERNAME` replaces one on demand.

DRF imports TokenAuthentication while rest_framework.views is still loading, so this module
must not import DRF's views: the sign-in endpoints live in core.signin.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


def expiry_cutoff():
    """Tokens created at or before this moment have expired."""
    return timezone.now() - timedelta(days=settings.LIBRARY_TOKEN_TTL)


def is_expired(token: Token) -> bool:
    return token.created <= expiry_cutoff()


def issue(user) -> Token:
    """The user's token, a new one if theirs has expired (DRF's view would hand the
    expired one back). Racing sign-ins end with one token: get_or_create retries."""
    Token.objects.filter(user=user, created__lte=expiry_cutoff()).delete()
    return Token.objects.get_or_create(user=user)[0]


def rotate(user) -> Token:
    """A new token for the user; the old one stops working at once."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, answering 401 for a key no token can have, and for a
    token older than LIBRARY_TOKEN_TTL days.

    DRF looks any key up as given; one with a NUL byte makes PostgreSQL refuse the query,
    which surfaced as a vague 400. Keys DRF issues are 40 hex digits.
    """

    def authenticate_credentials(self, key):
        if not (key.isascii() and key.isalnum() and len(key) <= 40):
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = super().authenticate_credentials(key)
        if is_expired(token):
            raise exceptions.AuthenticationFailed(
                "Token expired: get a new one from /api/v1/auth/token/.", code="token_expired"
            )
        return user, token
