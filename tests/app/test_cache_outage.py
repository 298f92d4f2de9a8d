"""Fail-open: with the cache server down (nothing listening) or hung (it accepts, never
answers), the site serves on: reads answer 200, throttling lets requests through, sessions
come from the database, /readyz stays 200 and says the cache is degraded, a failed cache is
not asked again for a few seconds, and the outage is logged in one line a minute, not a
traceback per cache call. Sign-ins alone fail closed: an attempt that cannot be counted is
refused (503), or an outage would lift the limit on password guesses."""

import io
import logging
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest
from django.core.management import call_command

from conftest import create_book
from core.cache import OutageLogFilter

pytestmark = pytest.mark.django_db

LOW_RATES = {"anon": "3/minute", "user": "5/minute", "login": "2/minute"}


def cache_at(settings, port, skip_seconds=None):
    """Point the app's cache at 127.0.0.1:PORT (the cache handler is rebuilt for it), and
    set how long a failed cache is skipped (default: as deployed)."""
    cache = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}
    if skip_seconds is not None:
        kwargs = {**cache["OPTIONS"]["REDIS_CLIENT_KWARGS"], "skip_seconds": skip_seconds}
        cache["OPTIONS"] = {**cache["OPTIONS"], "REDIS_CLIENT_KWARGS": kwargs}
    settings.CACHES = {"default": cache}


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LOW_RATES}


def free_port() -> int:
    """A loopback port nothing listens on: every cache call there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cache_down(settings):
    port = free_port()
    cache_at(settings, port)
    return port


class HungServer:
    """Accepts connections and never answers; counts them."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.server.accept()[0])
            except OSError:
                return

    def connections(self):
        """Connections made so far (once the accepting thread has caught up)."""
        time.sleep(0.3)
        return len(self.accepted)

    def close(self):
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def cache_hung():
    server = HungServer()
    yield server
    server.close()


class CacheServer:
    """A cache server of the test's own on a free loopback port (the same binary tools/cache-up
    runs), to stop and start again; `extra`: more of the server's options."""

    def __init__(self, *extra: str):
        self.extra = list(extra)
        self.binary = shutil.which("valkey-server") or shutil.which("redis-server")
        assert self.binary, "neither valkey-server nor redis-server on PATH: run tools/cache-up"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", "/tmp", "--logfile", "", *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"{self.binary} did not listen on {self.port}"
                time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def own_cache_server():
    server = CacheServer()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def outage_log():
    """The outage filter on the cache's logger, as if nothing had been logged yet (every copy:
    a test that sets logging up again adds one)."""
    filters = [f for f in logging.getLogger("core.cache").filters if isinstance(f, OutageLogFilter)]
    assert filters, "no OutageLogFilter on the core.cache logger"
    for outage in filters:
        outage.logged_at, outage.held_back = None, 0
    return filters


@pytest.fixture
def book():
    return create_book("Emma", authors=("Jane Austen",), copies=1)


def test_reads_answer_while_the_cache_is_down(client, api, book, cache_down):
    for url in ["/api/v1/books/", f"/api/v1/books/{book.pk}/", "/", f"/books/{book.pk}/"]:
        assert client.get(url).status_code == 200, url
    assert api.get("/api/v1/books/").json()["count"] == 1


def test_throttling_lets_requests_through_while_the_cache_is_down(api, low_rates, cache_down):
    # With the cache up these rates refuse the fourth request (test_throttling).
    assert [api.get("/api/v1/books/").status_code for _ in range(5)] == [200] * 5


def test_sessions_come_from_the_database_while_the_cache_is_down(client, member, settings):
    credentials = {"username": "mia", "password": "pw-mia-test"}
    assert client.post("/api/auth/login/", credentials).status_code == 302  # cache up
    cache_at(settings, free_port())  # down; the session is in the cache no more
    response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user == member


CREDENTIALS = {"username": "mia", "password": "pw-mia-test"}
UNAVAILABLE = {"detail": "Signing in is unavailable for a moment. Try again later.",
               "code": "signin_unavailable"}


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/auth/login/"])
def test_sign_in_is_refused_while_the_cache_cannot_count_attempts(client, api, member, url,
                                                                  cache_down):
    for response in (api.post(url, CREDENTIALS, format="json") if "token" in url
                     else client.post(url, CREDENTIALS) for _ in range(3)):
        assert response.status_code == 503, response.content
        assert response["Retry-After"] == "5"
        assert response["Content-Type"] == "application/json"
        assert response.json() == UNAVAILABLE


def test_the_admin_sign_in_is_refused_too_and_its_form_still_shows(client, member, cache_down):
    response = client.post("/admin/login/", CREDENTIALS)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.content.decode() == UNAVAILABLE["detail"]
    assert client.get("/admin/login/").status_code == 200  # not an attempt


def test_reads_and_tokens_already_issued_work_without_the_cache(api, client, book, member,
                                                                 settings):
    token = api.post("/api/v1/auth/token/", CREDENTIALS, format="json").json()["token"]
    cache_at(settings, free_port())
    assert api.get("/api/v1/books/").json()["count"] == 1
    assert client.get(f"/books/{book.pk}/").status_code == 200
    loans = api.get("/api/v1/loans/", HTTP_AUTHORIZATION=f"Token {token}")
    assert loans.status_code == 200 and loans.json()["count"] == 0


def test_sign_in_works_again_once_the_cache_is_back(api, settings, own_cache_server, member):
    cache_at(settings, own_cache_server.port, skip_seconds=0.5)
    assert api.post("/api/v1/auth/token/", CREDENTIALS, format="json").status_code == 200
    own_cache_server.stop()
    refused = api.post("/api/v1/auth/token/", CREDENTIALS, format="json")
    assert refused.status_code == 503 and refused.json() == UNAVAILABLE
    own_cache_server.start()
    time.sleep(0.6)
    assert api.post("/api/v1/auth/token/", CREDENTIALS, format="json").status_code == 200


def test_the_outage_is_one_line_a_minute_not_a_traceback_per_call(api, cache_down, outage_log,
                                                                   caplog):
    caplog.set_level(logging.ERROR, logger="core.cache")
    for _ in range(4):
        assert api.get("/api/v1/books/").status_code == 200
    lines = [r for r in caplog.records if r.name == "core.cache"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    message = lines[0].getMessage()
    assert message.startswith(
        "cache unavailable, serving without it: Redis ConnectionError: "), message
    assert f"127.0.0.1:{cache_down}" in message and "\n" not in message
    assert "(0 more errors since" in message
    assert lines[0].exc_info is None  # no traceback
    # A minute later (the filter's clock moved back), one more line counts what it held back.
    for outage in outage_log:
        if outage.logged_at is not None:
            outage.logged_at -= outage.interval
    assert api.get("/api/v1/books/").status_code == 200
    lines = [r for r in caplog.records if r.name == "core.cache"]
    assert len(lines) == 2
    held_back = int(re.search(r"\((\d+) more errors since", lines[1].getMessage())[1])
    assert held_back >= 3  # at least one cache call for each request after the first


def test_readyz_stays_200_and_says_the_cache_is_degraded(client, cache_down):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "migrations": "ok", "cache": "degraded"},
        "degraded": ["cache"],
    }
    body = response.content.decode()
    for internal in ("Error", "redis", "127.0.0.1", str(cache_down), "refused"):
        assert internal not in body, internal


def test_readiness_command_names_the_cache_error_and_stays_ready(cache_down):
    out = io.StringIO()
    call_command("readiness", stdout=out)  # no CommandError: ready
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["database: ok", "migrations: ok"]
    assert lines[2].startswith("cache: degraded: ConnectionError: "), lines
    assert f"127.0.0.1:{cache_down}" in lines[2]
    assert lines[3] == "ready, degraded: cache"


def test_a_hung_cache_costs_its_timeouts_once_then_is_not_asked_for_a_while(api, client, book,
                                                                          settings, cache_hung):
    """Without socket timeouts a hung cache would hang every request. With them, the first
    call waits a quarter second; then the cache is skipped for skip_seconds (FailFastRedis)."""
    cache_at(settings, cache_hung.port, skip_seconds=1)
    started = time.monotonic()
    assert api.get("/api/v1/books/").status_code == 200
    took = time.monotonic() - started
    assert took < 5, f"{took:.1f} s"
    tried = cache_hung.connections()
    assert tried >= 1
    for _ in range(3):
        assert api.get("/api/v1/books/").status_code == 200
    readyz = client.get("/readyz")
    assert readyz.status_code == 200 and readyz.json()["checks"]["cache"] == "degraded"
    assert cache_hung.connections() == tried  # skipped: not asked
    time.sleep(1)
    assert api.get("/api/v1/books/").status_code == 200
    assert cache_hung.connections() > tried  # asked again after skip_seconds


def test_a_restarted_cache_is_used_again_without_a_restart_of_the_app(api, low_rates, settings,
                                                                     own_cache_server):
    """The workers' pooled connections die with the server; once skip_seconds have passed
    after the last failed call, the next call connects again."""
    cache_at(settings, own_cache_server.port, skip_seconds=0.5)
    assert [api.get("/api/v1/books/").status_code for _ in range(4)] == [200, 200, 200, 429]
    own_cache_server.stop()
    assert [api.get("/api/v1/books/").status_code for _ in range(2)] == [200, 200]  # fail-open
    own_cache_server.start()  # empty: no persistence
    time.sleep(0.6)
    assert [api.get("/api/v1/books/").status_code for _ in range(4)] == [200, 200, 200, 429]
