"""API tokens that expire: LIBRARY_TOKEN_TTL days after they are issued.

DRF's tokens never expire on their own, so a token copied once from a laptop or a log works
for ever. An expired token is refused (library.authentication); signing in at the token
endpoint issues a new one, and `manage.py rotate_token USERNAME` replaces one on demand.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
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
