"""API tokens expire after LIBRARY_TOKEN_TTL days and can be rotated from the host."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def age(token, days):
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=days))


def loans(api, key):
    return api.get("/api/v1/loans/", HTTP_AUTHORIZATION=f"Token {key}")


def sign_in(api):
    response = api.post("/api/v1/auth/token/", {"username": "mia", "password": "pw-mia-test"})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_a_token_older_than_the_ttl_gets_a_401_saying_it_expired(api, member, settings):
    settings.LIBRARY_TOKEN_TTL = 7
    token = Token.objects.create(user=member)
    age(token, 6)
    assert loans(api, token.key).status_code == 200
    age(token, 7)
    response = loans(api, token.key)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Token expired: get a new one from /api/v1/auth/token/.",
        "code": "token_expired",
    }
    assert response["WWW-Authenticate"] == "Token"


def test_signing_in_again_replaces_an_expired_token(api, member, settings):
    settings.LIBRARY_TOKEN_TTL = 7
    first = sign_in(api)
    assert sign_in(api) == first  # still valid: the same token
    age(Token.objects.get(key=first), 8)
    second = sign_in(api)
    assert second != first
    assert loans(api, second).status_code == 200
    assert loans(api, first).status_code == 401
    assert Token.objects.filter(user=member).count() == 1


def rotate(username):
    out = io.StringIO()
    call_command("rotate_token", username, stdout=out)
    return out.getvalue()


def test_rotate_token_prints_only_the_new_key_and_revokes_the_old(api, member):
    old = Token.objects.create(user=member).key
    output = rotate("mia")
    assert re.fullmatch(r"[0-9a-f]{40}\n", output), output
    new = output.strip()
    assert new != old
    assert loans(api, new).status_code == 200
    assert loans(api, old).status_code == 401
    assert rotate("mia").strip() != new  # each run a new key; the last one printed works


def test_rotate_token_gives_a_first_token_too(api, member):
    assert loans(api, rotate("mia").strip()).status_code == 200


@pytest.mark.parametrize(("username", "says"), [("nobody", "no user named"),
                                                 ("mia", "inactive")])
def test_rotate_token_refuses_unknown_and_inactive_users(member, username, says):
    member.is_active = False
    member.save()
    with pytest.raises(CommandError, match=says):
        rotate(username)
    assert not Token.objects.exists()


def test_the_admin_never_shows_a_key(client, django_user_model, member):
    admin = django_user_model.objects.create_superuser("root", "root@example.invalid", "pw-root")
    key = Token.objects.create(user=member).key
    client.force_login(admin)
    assert key not in client.get("/admin/").content.decode()
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
    assert client.get(f"/admin/authtoken/tokenproxy/{member.pk}/change/").status_code == 404


def test_a_token_names_its_user_with_every_field_in_one_query(api, member):
    """The lookup is hand-written SQL: the user it builds must be the ORM's, field for field."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.auth import find_token

    token = Token.objects.create(user=member)
    with CaptureQueriesContext(connection) as queries:
        user, found = find_token(token.key)
    assert len(queries) == 1
    fresh = type(member).objects.get(pk=member.pk)
    for field in type(member)._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(fresh, field.attname), field.name
    assert found.created == Token.objects.get(pk=token.pk).created
    assert found.user is user
    assert find_token("0" * 40) is None


def test_a_token_of_an_inactive_user_gets_a_401(api, member):
    token = Token.objects.create(user=member)
    assert loans(api, token.key).status_code == 200
    member.is_active = False
    member.save()
    response = loans(api, token.key)
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."
