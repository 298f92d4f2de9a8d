"""Metrics on a lab host: the proxy's metrics site, published on the host's loopback only,
serves the app's metrics (the sum of every gunicorn worker) and Caddy's own; the public site
answers /metrics with a 404, and the metrics port cannot be reached from outside the host."""

import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared reader
from prometheus_samples import value
from test_firewall import probe

COMPOSE_PROJECT = "library"
BY_VIEW = "django_http_responses_total_by_status_view_method_total"
AUTHORS = {"view": "author-list", "method": "GET", "status": "200"}


def setting(name):
    """A role variable as the lab deploys it: the lab's group_vars, else the role default."""
    for path in ("deploy/lab/group_vars/library/library.yml", "ansible/roles/library/defaults/main.yml"):
        values = yaml.safe_load((ROOT / path).read_text())
        if name in values:
            return values[name]
    raise KeyError(name)


METRICS_PORT = int(setting("library_metrics_port"))


def scrape(host, path):
    """GET http://127.0.0.1:METRICS_PORT<path> on the host itself, as a scraper there would."""
    return host.check_output(f"curl -fsS --max-time 10 http://127.0.0.1:{METRICS_PORT}{path}")


def published_ports(host, service):
    ids = host.check_output(
        f"sudo docker ps -q --filter label=com.docker.compose.project={COMPOSE_PROJECT} "
        f"--filter label=com.docker.compose.service={service}"
    ).split()
    assert ids, f"no running {service} container"
    [container] = json.loads(host.check_output("sudo docker inspect " + " ".join(ids[:1])))
    return {port: bindings for port, bindings in container["NetworkSettings"]["Ports"].items()
            if bindings}


def test_a_request_through_the_proxy_is_counted(host, http, base_url):
    before = value(scrape(host, "/metrics"), BY_VIEW, **AUTHORS)
    assert http(base_url + "/api/v1/authors/").status_code == 200
    assert value(scrape(host, "/metrics"), BY_VIEW, **AUTHORS) == before + 1


def test_database_queries_are_counted(host):
    text = scrape(host, "/metrics")
    assert value(text, "django_db_execute_total", alias="default", vendor="postgresql") > 0


def test_caddy_serves_its_own_metrics(host, http, base_url):
    assert http(base_url + "/version").status_code == 200
    text = scrape(host, "/caddy/metrics")
    # HTTP metrics per server (Caddyfile: servers { metrics }); srv0 is the public site.
    assert value(text, "caddy_http_requests_total", server="srv0") > 0


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/caddy/metrics"])
def test_public_site_answers_metrics_paths_with_404(http, base_url, path):
    response = http(base_url + path)
    assert response.status_code == 404, (path, response.status_code)
    assert "django_http" not in response.text and "caddy_http" not in response.text


def test_metrics_port_is_published_on_loopback_only(host):
    assert published_ports(host, "proxy")["9180/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": str(METRICS_PORT)}
    ]
    assert published_ports(host, "web") == {}


def test_metrics_port_unreachable_from_outside(address):
    # Nothing listens on the host's public address, and the firewall drops the attempt.
    assert probe(address, METRICS_PORT) == "timeout"
