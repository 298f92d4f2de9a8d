import io
import threading

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from core import health


def test_healthz_touches_nothing(client):
    # No django_db mark: any database access here would raise and turn this into a 500.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_readyz_when_all_is_well(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}


def test_version_reports_the_build(client):
    assert client.get("/version").json() == {
        "version": "1.2.3-test",
        "revision": "0123456789abcdef0123456789abcdef01234567",
        "built": "2026-01-02T03:04:05Z",
    }


@pytest.fixture
def pending_migration(db):
    # Forget that the latest migration ran; the test's transaction puts the row back afterwards.
    (app, name), = MigrationLoader(connection).graph.leaf_nodes("circulation")
    MigrationRecorder(connection).record_unapplied(app, name)
    return f"{app}.{name}"


def take_the_database_down(monkeypatch):
    """The app's database connection points at a closed port."""
    closed_port = {**settings.DATABASES["default"], "HOST": "127.0.0.1", "PORT": "1"}
    monkeypatch.setattr(health, "connections", ConnectionHandler({"default": closed_port}))


@pytest.fixture
def database_down(db, monkeypatch):
    """The database is down (the db mark lifts pytest-django's block, so the failure seen is
    the real one)."""
    take_the_database_down(monkeypatch)


def test_readyz_is_503_while_a_migration_is_pending(client, pending_migration):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "pending", "cache": "ok"},
        "failed": ["migrations"],
    }


def test_readyz_is_503_when_the_database_is_unreachable(client, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failing", "migrations": "unknown", "cache": "ok"},
        "failed": ["database", "migrations"],
    }


def test_readyz_tells_the_public_no_internals(client, database_down):
    """No exception class, driver message, host or port for a stranger to learn from."""
    body = client.get("/readyz").content.decode()
    for internal in ("Error", "psycopg", "127.0.0.1", "port", "connection"):
        assert internal not in body, internal


def test_readyz_does_not_count_or_name_pending_migrations(client, pending_migration):
    body = client.get("/readyz").content.decode()
    assert "0001" not in body and "circulation" not in body
    assert not any(character.isdigit() for character in body)


def test_version_says_only_version_revision_and_built(client):
    response = client.get("/version")
    assert set(response.json()) == {"version", "revision", "built"}
    assert "Server" not in response.headers


def readiness():
    out = io.StringIO()
    try:
        call_command("readiness", stdout=out)
    except CommandError as exc:
        return False, out.getvalue(), str(exc)
    return True, out.getvalue(), ""


def test_readiness_command_reports_ready(db):
    ready, out, _ = readiness()
    assert ready
    assert out.splitlines() == ["database: ok", "migrations: ok", "cache: ok", "ready"]


def test_readiness_command_names_the_database_failure_in_full(database_down):
    ready, out, error = readiness()
    assert not ready and error == "not ready: database, migrations"
    first = out.splitlines()[0]
    assert first.startswith("database: failing: OperationalError: ")
    assert "127.0.0.1" in first and "port 1" in first  # the driver's own words


def test_readiness_command_names_the_pending_migrations(pending_migration):
    ready, out, error = readiness()
    assert not ready and error == "not ready: migrations"
    assert f"migrations: pending: 1 to apply: {pending_migration}" in out


@pytest.mark.parametrize("path", ["/healthz", "/version"])
@pytest.mark.parametrize("host", ["172.18.0.5:8000", "localhost", "[::1]:8000", "bad host!"])
def test_probes_answer_any_host_header(path, host):
    assert Client().get(path, HTTP_HOST=host).status_code == 200


@pytest.mark.django_db
def test_readyz_answers_any_host_header():
    assert Client().get("/readyz", HTTP_HOST="10.0.0.9:8000").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/v1/books/", "/admin/login/"])
def test_other_paths_refuse_unknown_hosts(path):
    response = Client().get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert Client().get(path, HTTP_HOST="library.example.org").status_code == 200


@pytest.mark.django_db
def test_unknown_host_on_the_api_gets_json():
    response = Client().get("/api/v1/books/", HTTP_HOST="evil.example")
    assert response.json()["code"] == "bad_request"


@pytest.mark.django_db
def test_https_redirect_spares_the_probes():
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=None):
        client = Client()  # a new client builds its middleware under these settings
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        redirect = client.get("/api/v1/books/", HTTP_HOST="library.example.org")
        assert redirect.status_code == 301
        assert redirect["Location"].startswith("https://library.example.org/")


def test_probes_only_answer_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# --- /readyz stays cheap (core.health.Readiness) ---------------------------------------------

READY = {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}
DATABASE_FAILING = {
    "status": "unavailable",
    "checks": {"database": "failing", "migrations": "unknown", "cache": "ok"},
    "failed": ["database", "migrations"],
}


@pytest.fixture
def clock(monkeypatch):
    """Readiness's clock, moved by the test: [seconds]."""
    now = [1000.0]
    monkeypatch.setattr(health.READINESS, "clock", lambda: now[0])
    return now


def readyz_and_queries(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/readyz")
    return response, [query["sql"] for query in captured]


@pytest.mark.django_db
def test_after_the_first_ready_answer_readyz_costs_one_query_a_second(client, clock):
    first, queries = readyz_and_queries(client)
    assert first.status_code == 200 and first.json() == READY
    assert len(queries) == 3  # SELECT 1; the migration table's presence, its rows
    clock[0] += 0.5
    again, queries = readyz_and_queries(client)
    assert again.status_code == 200 and again.json() == READY
    assert queries == []  # the answer of the last second
    for _ in range(3):
        clock[0] += 1.0
        later, queries = readyz_and_queries(client)
        assert later.status_code == 200 and later.json() == READY
        assert queries == ["SELECT 1"]  # no migration graph, no migration table


@pytest.mark.django_db
def test_once_no_migration_was_pending_the_graph_is_not_loaded_again(client, clock,
                                                                      monkeypatch):
    assert client.get("/readyz").json() == READY

    def no_graph(*args, **kwargs):
        raise AssertionError("the migration graph was loaded again")

    monkeypatch.setattr(health, "MigrationExecutor", no_graph)
    clock[0] += 1.0
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json() == READY


def test_pending_migrations_are_checked_until_none_is_pending(client, clock, pending_migration):
    for _ in range(2):
        response, queries = readyz_and_queries(client)
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"] == "pending"
        assert len(queries) == 3
        clock[0] += 1.0
    app, name = pending_migration.split(".")
    MigrationRecorder(connection).record_applied(app, name)  # as `migrate` would
    assert client.get("/readyz").json() == READY


@pytest.mark.django_db
def test_a_database_that_stops_answering_shows_within_a_second(client, clock, monkeypatch):
    assert client.get("/readyz").json() == READY
    with monkeypatch.context() as down:
        take_the_database_down(down)
        clock[0] += 0.99
        assert client.get("/readyz").status_code == 200  # the answer of the last second
        clock[0] += 0.01
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json() == DATABASE_FAILING
    # Back, and maybe a restore: the migrations are checked once again.
    clock[0] += 1.0
    back, queries = readyz_and_queries(client)
    assert back.status_code == 200 and back.json() == READY
    assert len(queries) == 3
    clock[0] += 1.0
    assert readyz_and_queries(client)[1] == ["SELECT 1"]


@pytest.mark.django_db
def test_while_one_check_waits_on_the_database_the_other_probes_do_not(client, monkeypatch):
    """A hung database holds the one probe that asked it; the others answer within the TTL
    that the database is failing, and ask it nothing."""
    monkeypatch.setattr(health.READINESS, "ttl", 0.2)
    asked, hung = [], threading.Event()

    def hanging_database():
        asked.append(threading.current_thread().name)
        hung.wait(10)
        return health.Check("ok")

    monkeypatch.setattr(health, "check_database", hanging_database)
    monkeypatch.setattr(health, "check_migrations", lambda: health.Check("ok"))
    first = []
    waiting = threading.Thread(target=lambda: first.append(Client().get("/readyz")))
    waiting.start()
    while not asked:
        threading.Event().wait(0.01)
    for _ in range(3):
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json() == DATABASE_FAILING
    assert len(asked) == 1
    hung.set()
    waiting.join(10)
    assert first[0].status_code == 200 and first[0].json() == READY
    assert client.get("/readyz").json() == READY  # its answer, for the rest of the TTL
    assert len(asked) == 1
