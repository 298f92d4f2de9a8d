"""Sessions are cached_db: read from the cache server, written to it and to PostgreSQL, which
stays the record. A flushed (or restarted, or evicting) cache logs nobody out."""

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def cache_server():
    """The cache server itself, past Django's cache API."""
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def cached(session_key):
    return cache_server().exists(cache.make_key(KEY_PREFIX + session_key)) == 1


def test_a_session_is_kept_in_the_cache_server_and_the_database(client, member):
    client.force_login(member)
    key = client.session.session_key
    assert cached(key)
    assert Session.objects.filter(session_key=key).exists()


def test_sessions_survive_a_cache_flush(client, member):
    client.force_login(member)
    key = client.session.session_key
    cache_server().flushdb()
    assert not cached(key)
    response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user == member  # still signed in
    assert cached(key)  # read from the database, cached again


def test_signing_out_removes_the_session_from_both(client, member):
    client.force_login(member)
    key = client.session.session_key
    assert client.post("/api/auth/logout/").status_code in (200, 302)
    assert not cached(key)
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/").wsgi_request.user.is_anonymous
