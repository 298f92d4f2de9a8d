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
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
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

    The lookup is the one DRF makes (the token and its user, joined), in SQL written once:
    every API request with a token pays for it, and building the same query through the ORM
    each time cost more than running it.
    """

    def authenticate_credentials(self, key):
        if not (key.isascii() and key.isalnum() and len(key) <= 40):
            raise exceptions.AuthenticationFailed("Invalid token.")
        found = find_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if is_expired(token):
            raise exceptions.AuthenticationFailed(
                "Token expired: get a new one from /api/v1/auth/token/.", code="token_expired"
            )
        return user, token


def find_token(key: str):
    """(user, token) for `key`, or None: the token and its user in one query."""
    user_model = get_user_model()
    alias = router.db_for_read(Token)
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = user_model._meta.concrete_fields
    columns = ", ".join(f"u.{quote(field.column)}" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.{quote('created')}, {columns}"  # names from the models' own metadata
            f" FROM {quote(Token._meta.db_table)} t"
            f" JOIN {quote(user_model._meta.db_table)} u"
            f" ON u.{quote(user_model._meta.pk.column)} = t.{quote('user_id')}"
            f" WHERE t.{quote('key')} = %s",
            [key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    converted = [
        _convert(connection, field, value) for field, value in zip(fields, row[1:], strict=True)
    ]
    user = user_model.from_db(alias, [field.attname for field in fields], converted)
    created = _convert(connection, Token._meta.get_field("created"), row[0])
    token = Token.from_db(alias, ["key", "user_id", "created"], [key, user.pk, created])
    token.user = user
    return user, token


def _convert(connection, field, value):
    """A database value as the ORM would hand it over (e.g. an aware datetime): the backend's
    converters, then the field's own, as the ORM's SQL compiler applies them."""
    column = field.get_col(field.model._meta.db_table)
    converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    for converter in converters:
        value = converter(value, column, connection)
    return value
