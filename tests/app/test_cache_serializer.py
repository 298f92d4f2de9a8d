"""The shared cache holds JSON (core.cache.JSONSerializer), never pickle: an entry planted by
whatever can reach the cache server is read as a miss, never run. And a password in CACHE_URL
is used."""

import json
import os
import pickle

import pytest
import redis
from django.core.cache import cache

from conftest import create_book
from core import cache as core_cache
from library.env import env
from test_cache_outage import CacheServer

pytestmark = pytest.mark.django_db

SESSION_KEY = "a" * 32  # one Django could have issued (core.sessions)


class Planted:
    """Unpickled, it opens (creates) `path`: any code could run instead."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def server():
    """The cache server itself, written to as anything on its network could."""
    return redis.Redis.from_url(os.environ["CACHE_URL"])


def session_cache_key(session_key: str) -> str:
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    return cache.make_key(KEY_PREFIX + session_key)


def test_a_planted_pickle_is_a_miss_not_run(server, tmp_path, caplog):
    marker = tmp_path / "ran"
    server.set(cache.make_key("any-key"), pickle.dumps(Planted(marker)))
    assert cache.get("any-key") is None
    assert not marker.exists()
    assert "cache: an entry that is not the app's JSON was read as a miss" in caplog.text


def test_a_pickle_planted_as_a_session_is_no_session_and_not_run(client, server, tmp_path):
    marker = tmp_path / "ran"
    server.set(session_cache_key(SESSION_KEY), pickle.dumps(Planted(marker)))
    client.cookies["sessionid"] = SESSION_KEY
    response = client.get("/")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert not marker.exists()


def test_what_the_app_stores_reads_back_the_same():
    page = ('W/"0123"', "application/json", b'{"results": []}\xff\x00')
    values = [page, "a fragment", {"_auth_user_id": "1", "n": [1, 2.5, None, True]},
              {"~bytes": "not a tag"}, {"~": 1, "x": b"y"}, [(1, b"2"), ("3",)], 0, False, ""]
    for number, value in enumerate(values):
        cache.set(f"value-{number}", value)
        assert cache.get(f"value-{number}") == value
        assert type(cache.get(f"value-{number}")) is type(value)


def test_what_it_cannot_store_as_json_it_refuses():
    with pytest.raises(TypeError, match="the cache stores no set"):
        cache.set("a-set", {1, 2})


def test_the_server_holds_only_json_and_counters(client, api, member, server, book):
    """Pages, fragments, throttle counters and sessions, as the site stores them."""
    assert client.post("/api/auth/login/", {"username": "mia", "password": "pw-mia-test"}
                       ).status_code == 302
    for url in ["/", f"/books/{book.pk}/", "/api/v1/books/", f"/api/v1/books/{book.pk}/"]:
        assert client.get(url).status_code == 200
        assert api.get(url).status_code == 200
    entries = {key: server.get(key) for key in server.scan_iter() if server.type(key) == b"string"}
    kinds = {"page", "session", "counter"}
    for key, value in entries.items():
        assert not value.startswith(b"\x80"), key  # pickle's first byte
        if value.isdigit():
            kinds.discard("counter")
            continue
        json.loads(value)
        kinds.discard("session" if b"sessions" in key else "page")
    assert kinds == set(), entries.keys()
    # And they still work: the signed-in page, and a cached read.
    again = client.get("/")
    assert again.status_code == 200 and again.wsgi_request.user == member
    assert api.get("/api/v1/books/").json()["results"][0]["title"] == book.title


@pytest.fixture
def book():
    return create_book("Emma", authors=("Jane Austen",), copies=1)


PASSWORD = "cache-test-only-password"


@pytest.fixture
def password_server():
    server = CacheServer("--requirepass", PASSWORD)
    server.start()
    yield server
    server.stop()


def cache_url(settings, url):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}


def test_a_password_in_cache_url_is_used(client, api, settings, password_server, member):
    cache_url(settings, f"redis://:{PASSWORD}@127.0.0.1:{password_server.port}/0")
    cache.set("k", ("v", b"w"))
    assert cache.get("k") == ("v", b"w")
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["cache"] == "ok"
    token = api.post("/api/v1/auth/token/", {"username": "mia", "password": "pw-mia-test"},
                     format="json")
    assert token.status_code == 200 and set(token.json()) == {"token"}  # counted, so allowed


def test_without_the_password_the_cache_is_degraded(client, settings, password_server):
    cache_url(settings, f"redis://127.0.0.1:{password_server.port}/0")
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["cache"] == "degraded"


def test_cache_url_keeps_its_password(monkeypatch):
    monkeypatch.setenv("CACHE_URL", "redis://:s3cret%2Fpart@cache:6379/0")
    assert env.cache("CACHE_URL") == {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://:s3cret%2Fpart@cache:6379/0"}


def test_the_settings_name_the_json_serializer(settings):
    assert settings.CACHES["default"]["OPTIONS"]["SERIALIZER"] == "core.cache.JSONSerializer"
    assert isinstance(cache.client._serializer, core_cache.JSONSerializer)
