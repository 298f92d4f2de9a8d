"""/metrics (django-prometheus): requests by view and status, database timings, the sum of
every worker's files in multiprocess mode, and the gunicorn hooks that keep those files right.
Counters are global to the test process, so each test compares before and after."""

import logging
import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from conftest import FormClient
from core.metrics import PUBLIC_SITE_HEADER

APP_DIR = Path(__file__).resolve().parents[2] / "app"
BY_VIEW = "django_http_responses_total_by_status_view_method_total"
LATENCY_BY_VIEW = "django_http_requests_latency_seconds_by_view_method_count"
POSTGRES = {"alias": "default", "vendor": "postgresql"}
LOW_RATES = {"anon": "1/minute", "user": "1/minute", "login": "1/minute"}


def scrape(client=None) -> str:
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def value(text: str, name: str, **labels) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


@pytest.mark.django_db
def test_a_request_is_counted_by_view_method_and_status(client):
    listed = {"view": "book-list", "method": "GET", "status": "200"}
    missing = {"view": "book-detail", "method": "GET", "status": "404"}
    before = scrape()
    assert client.get("/api/v1/books/").status_code == 200
    assert client.get("/api/v1/books/987654/").status_code == 404
    after = scrape()
    assert value(after, BY_VIEW, **listed) == value(before, BY_VIEW, **listed) + 1
    assert value(after, BY_VIEW, **missing) == value(before, BY_VIEW, **missing) + 1
    latency = {"view": "book-list", "method": "GET"}
    assert value(after, LATENCY_BY_VIEW, **latency) == value(before, LATENCY_BY_VIEW, **latency) + 1


@pytest.mark.django_db
def test_database_queries_are_counted_and_timed(client):
    before = scrape()
    assert client.get("/api/v1/books/").status_code == 200
    after = scrape()
    executed = value(after, "django_db_execute_total", **POSTGRES)
    assert executed > value(before, "django_db_execute_total", **POSTGRES)
    timed = "django_db_query_duration_seconds_count"
    assert value(after, timed, **POSTGRES) > value(before, timed, **POSTGRES)


@pytest.mark.django_db
def test_cache_gets_are_counted_and_so_are_those_the_cache_did_not_answer(client, settings):
    redis = {"backend": "redis"}
    before = scrape()
    # The book list's page is looked up in the cache (the throttle's counting is a script run
    # in the cache server, not a get).
    assert client.get("/api/v1/books/").status_code == 200
    after = scrape()
    gets = "django_cache_get_total"
    assert value(after, gets, **redis) > value(before, gets, **redis)
    with socket.socket() as probe:  # a port nothing listens on: the cache is down
        probe.bind(("127.0.0.1", 0))
        down = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": down}}
    assert client.get("/api/v1/books/").status_code == 200
    failed = "django_cache_get_fail_total"
    # The page cache's lookup asked and got no answer: counted.
    assert value(scrape(), failed, **redis) > value(after, failed, **redis)


@pytest.mark.parametrize("host", ["127.0.0.1:9180", "library-web-2:8000", "evil.example"])
def test_metrics_answer_any_host_over_plain_http(host):
    # The proxy's metrics listener forwards its own Host over plain HTTP: no 400, no redirect.
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=None):
        response = Client().get("/metrics", HTTP_HOST=host)
    assert response.status_code == 200
    assert b"django_http_requests_before_middlewares_total" in response.content


@pytest.mark.django_db
def test_metrics_are_never_throttled_and_need_no_sign_in(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LOW_RATES}
    client = Client()
    assert [client.get("/metrics").status_code for _ in range(6)] == [200] * 6


@pytest.mark.django_db
def test_the_public_site_never_gets_metrics():
    # What the public site forwards carries its header: /metrics is then no page at all.
    header = {PUBLIC_SITE_HEADER: "1"}
    response = Client().get("/metrics", HTTP_HOST="library.example.org", **header)
    assert response.status_code == 404
    assert b"django_http" not in response.content


def test_metrics_only_answer_get_and_head():
    assert Client().head("/metrics").status_code == 200
    response = FormClient().post("/metrics")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_scrapes_are_logged_at_debug_like_probes(caplog):
    caplog.set_level(logging.DEBUG, logger="library.request")
    Client().get("/metrics")
    [record] = [r for r in caplog.records if r.name == "library.request"]
    assert (record.path, record.status, record.levelname) == ("/metrics", 200, "DEBUG")


def serve_in_another_process(metrics_dir: Path, requests: int) -> None:
    """A process of its own, as a gunicorn worker is, serves /healthz `requests` times with
    PROMETHEUS_MULTIPROC_DIR set when it starts."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        f"for _ in range({requests}):\n"
        "    assert Client().get('/healthz').status_code == 200\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "DJANGO_SETTINGS_MODULE": "library.settings_test"}
    result = subprocess.run([sys.executable, "-c", script], cwd=APP_DIR, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_metrics_sum_every_process_in_the_multiprocess_folder(tmp_path, monkeypatch):
    serve_in_another_process(tmp_path, 2)
    serve_in_another_process(tmp_path, 3)
    assert len(list(tmp_path.glob("counter_*.db"))) >= 2  # one file per process
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = scrape()
    # Exactly the other processes' five requests: this process's own counts are not read.
    assert value(text, "django_http_requests_before_middlewares_total") == 5


@pytest.fixture
def gunicorn_config(tmp_path, monkeypatch):
    """app/gunicorn.conf.py as gunicorn loads it, with its metrics folder under tmp_path."""
    metrics_dir = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = runpy.run_path(str(APP_DIR / "gunicorn.conf.py"))
    return config, metrics_dir


def test_gunicorn_empties_the_metrics_folder_when_it_starts(gunicorn_config):
    config, metrics_dir = gunicorn_config
    assert metrics_dir.is_dir()  # made by the config, before the app is imported
    stale = metrics_dir / "counter_4242.db"
    stale.write_bytes(b"left by an earlier run")
    config["on_starting"](SimpleNamespace())
    assert not stale.exists()


def test_gunicorn_marks_an_exited_worker_dead(gunicorn_config):
    config, metrics_dir = gunicorn_config
    names = ["gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db",
             "gauge_livesum_4343.db"]
    for name in names:
        (metrics_dir / name).write_bytes(b"")
    config["child_exit"](SimpleNamespace(), SimpleNamespace(pid=4242))
    # The exited worker's live gauges go; its counters and other workers' gauges stay.
    assert sorted(p.name for p in metrics_dir.iterdir()) == ["counter_4242.db",
                                                              "gauge_livesum_4343.db"]
