"""Metrics of the running image (two gunicorn workers) and of the proxy in front of it: any
worker's answer to /metrics sums every worker, the counts outlive the workers that made them,
and the proxy serves them on its metrics site alone, never on the public one."""

import sys
import time
from pathlib import Path

import pytest
import requests
from image_helpers import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared reader
from prometheus_samples import value

BY_VIEW = "django_http_responses_total_by_status_view_method_total"
AUTHORS = {"view": "author-list", "method": "GET", "status": "200"}
# The files of gunicorn's processes (gunicorn.conf.py: PROMETHEUS_MULTIPROC_DIR).
METRICS_DIR = "/tmp/prometheus-metrics"


def scrape(base):
    # A new connection each time (no session): gunicorn hands each to whichever worker accepts.
    response = requests.get(base + "/metrics", timeout=10)
    assert response.status_code == 200, response.text[:300]
    return response.text


def authors_listed(base):
    return value(scrape(base), BY_VIEW, **AUTHORS)


def list_authors(base, times):
    for _ in range(times):
        assert requests.get(base + "/api/v1/authors/", timeout=10).status_code == 200


def workers(web):
    """The pids of gunicorn's workers: the children of its master, PID 1."""
    out = docker("exec", web["name"], "sh", "-c",
                 r"grep -l '^PPid:[[:space:]]*1$' /proc/[0-9]*/status").stdout
    return {int(path.split("/")[2]) for path in out.split()}


def test_every_scrape_sums_every_worker(web):
    before = authors_listed(web["url"])
    list_authors(web["url"], 12)
    # Each scrape may be answered by either worker; each must see all twelve.
    assert [authors_listed(web["url"]) for _ in range(6)] == [before + 12] * 6


def test_both_workers_write_their_metrics_to_the_tmpfs(web):
    assert len(workers(web)) == 2  # GUNICORN_WORKERS=2
    files = docker("exec", web["name"], "ls", METRICS_DIR).stdout.split()
    assert any(name.startswith("counter_") for name in files), files


def test_database_queries_are_counted_and_timed(web):
    list_authors(web["url"], 1)
    text = scrape(web["url"])
    postgres = {"alias": "default", "vendor": "postgresql"}
    assert value(text, "django_db_execute_total", **postgres) > 0
    assert value(text, "django_db_query_duration_seconds_count", **postgres) > 0


def test_public_site_answers_metrics_with_404(proxy):
    for path in ("/metrics", "/metrics/", "/METRICS", "/metrics?format=text", "/metrics/x"):
        response = requests.get(proxy["public"] + path, timeout=10)
        assert response.status_code == 404, path
        assert "django_http" not in response.text, path


def test_metrics_site_counts_a_request_through_the_public_site(proxy):
    before = authors_listed(proxy["metrics"])
    response = requests.get(proxy["public"] + "/api/v1/authors/", timeout=10)
    assert response.status_code == 200
    assert authors_listed(proxy["metrics"]) == before + 1


def test_metrics_site_serves_caddys_own_metrics(proxy):
    requests.get(proxy["public"] + "/version", timeout=10)
    response = requests.get(proxy["metrics"] + "/caddy/metrics", timeout=10)
    assert response.status_code == 200
    # Per-server HTTP metrics (global option `servers { metrics }`): srv0 is the public site.
    assert value(response.text, "caddy_http_requests_total", server="srv0") > 0
    assert value(response.text, "go_goroutines") > 0  # the runtime's, from Caddy's registry


@pytest.mark.parametrize("path", ["/", "/api/v1/books/", "/readyz", "/admin/"])
def test_metrics_site_serves_nothing_else(proxy, path):
    assert requests.get(proxy["metrics"] + path, timeout=10).status_code == 404


def test_counts_outlive_the_workers_that_made_them(web):
    """Every worker is replaced (SIGTERM; gunicorn starts new ones and runs child_exit): the
    counts are in the files, so a scrape by a worker that served none of them has them all."""
    list_authors(web["url"], 5)
    expected = authors_listed(web["url"])
    old = workers(web)
    docker("exec", web["name"], "sh", "-c", "kill -TERM " + " ".join(map(str, old)))
    deadline = time.monotonic() + 60
    while (new := workers(web)) & old or len(new) != 2:
        assert time.monotonic() < deadline, f"gunicorn did not replace its workers: {old} -> {new}"
        time.sleep(0.5)
    while True:
        try:
            if requests.get(web["url"] + "/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "no worker answers /healthz after the replacement"
        time.sleep(0.5)
    assert [authors_listed(web["url"]) for _ in range(4)] == [expected] * 4
