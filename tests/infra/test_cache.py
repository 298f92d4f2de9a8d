"""The shared cache on a lab host: the `cache` service (Valkey) runs healthy as its own user,
keeps nothing on disk and holds to the role's memory policy, sits on the stack's internal
network only (no host port; nothing answers from outside the host), web is pointed at it and
keeps its throttle counters there, and the site serves on while it is down. Its hardening
(capabilities, read-only root, limits) is checked with every service's in test_containers.py."""

import re
import time

import pytest
from conftest import COMPOSE_PROJECT, compose_containers
from test_containers import setting, size_in_bytes
from test_firewall import LAB_CONTROLLER, probe

VALKEY_UID = 999  # the official image's valkey user (tools/offline/images/valkey: the same)
# Seconds the cache may take to be healthy again after a start (its healthcheck: every 5 s).
HEALTHY_AGAIN_WITHIN = 60


@pytest.fixture(scope="module")
def stack(host):
    """{service: docker inspect} of the stack's running containers."""
    found = compose_containers(host)
    assert {"cache", "web"} <= set(found), sorted(found)
    return found


@pytest.fixture(scope="module")
def cache_name(stack):
    return stack["cache"]["Name"].lstrip("/")


def valkey(host, cache_name, *args):
    """A valkey-cli command in the cache container, its output."""
    return host.check_output(f"sudo docker exec {cache_name} valkey-cli " + " ".join(args))


def config(host, cache_name, key):
    """CONFIG GET's value ("" when empty: the output's trailing empty line is stripped)."""
    lines = valkey(host, cache_name, "config", "get", key).splitlines()
    assert lines[0] == key, lines
    return lines[1] if len(lines) > 1 else ""


def health(host, cache_name):
    return host.check_output(f"sudo docker inspect --format '{{{{.State.Health.Status}}}}' {cache_name}")


def test_the_cache_runs_healthy_as_the_valkey_user(host, stack, cache_name):
    assert stack["cache"]["State"]["Health"]["Status"] == "healthy"
    assert stack["cache"]["Config"]["User"] == f"{VALKEY_UID}:{VALKEY_UID}"
    status = host.check_output(f"sudo docker exec {cache_name} cat /proc/1/status")
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {str(VALKEY_UID)}, uids
    assert valkey(host, cache_name, "ping") == "PONG"


def test_the_cache_is_on_the_internal_network_only(host, stack):
    networks = set(stack["cache"]["NetworkSettings"]["Networks"])
    assert networks == {f"{COMPOSE_PROJECT}_backend"}, networks
    internal = host.check_output(
        f"sudo docker network inspect --format '{{{{.Internal}}}}' {COMPOSE_PROJECT}_backend")
    assert internal == "true"
    published = {port: b for port, b in (stack["cache"]["NetworkSettings"]["Ports"] or {}).items() if b}
    assert published == {}


def test_the_cache_does_not_answer_on_the_host_or_from_outside(host, address):
    listening = [str(s) for s in host.socket.get_listening_sockets()]
    assert not [s for s in listening if s.endswith(":6379")], listening
    assert probe(address, 6379) != "open"


def test_the_cache_keeps_nothing_on_disk(host, stack, cache_name):
    assert config(host, cache_name, "save") == ""
    assert config(host, cache_name, "appendonly") == "no"
    # No volume or bind mount to keep anything in (its working folder is a tmpfs).
    kept = [m for m in stack["cache"]["Mounts"] if m["Type"] in ("volume", "bind")]
    assert kept == [], kept
    assert "/data" in (stack["cache"]["HostConfig"]["Tmpfs"] or {})


def test_the_cache_evicts_the_least_recently_used_within_three_quarters_of_its_limit(host, cache_name):
    limit = size_in_bytes(setting("library_cache_memory_limit"))
    assert int(config(host, cache_name, "maxmemory")) == limit * 3 // 4
    assert config(host, cache_name, "maxmemory-policy") == "allkeys-lru"


def test_web_signs_in_to_the_cache_which_refuses_anyone_without_its_password(host, stack, cache_name):
    env = dict(item.split("=", 1) for item in stack["web"]["Config"]["Env"])
    assert re.fullmatch(r"redis://:[0-9a-f]{64}@cache:6379/0", env["CACHE_URL"]), "web's CACHE_URL has no password"
    assert config(host, cache_name, "protected-mode") == "yes"
    anonymous = host.run(f"sudo docker exec -e REDISCLI_AUTH= {cache_name} valkey-cli ping")
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr, anonymous.stdout
    # Not in the server's arguments, which any process in the container can read back.
    assert env["CACHE_URL"].split(":")[2].split("@")[0] not in host.check_output(
        f"sudo docker exec {cache_name} cat /proc/1/cmdline")


def test_web_keeps_its_throttle_counters_in_the_cache(host, cache_name, http, base_url):
    assert http(base_url + "/api/v1/books/").status_code == 200
    # The counter of this machine's address (the proxy's X-Forwarded-For) in the current
    # minute-long window (core.throttling.SlidingWindow), with Django's prefix ":1:".
    keys = valkey(host, cache_name, "--scan", "--pattern", "':1:throttle_anon_*'").split()
    window = re.compile(rf":1:throttle_anon_{re.escape(LAB_CONTROLLER)}:\d+")
    assert any(window.fullmatch(key) for key in keys), keys


def readyz(http, base_url):
    response = http(base_url + "/readyz")
    return response.status_code, response.json()


def test_the_site_serves_while_the_cache_is_down(host, cache_name, http, base_url):
    host.check_output(f"sudo docker stop {cache_name}")
    try:
        for path in ("/api/v1/books/", "/", "/api/v1/authors/"):
            started = time.monotonic()
            assert http(base_url + path).status_code == 200, path
            took = time.monotonic() - started
            # Each cache call fails at once (the name "cache" no longer resolves): a slow
            # answer here is time lost per call, e.g. to name resolution.
            assert took < 5, f"{path}: {took:.1f} s without the cache"
        # Still in rotation: the proxy's health check and the deploy's gate see a 200, and say
        # the cache is down within a second (a process reuses its last answer for one).
        deadline = time.monotonic() + 3
        while readyz(http, base_url)[1].get("status") == "ok" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert readyz(http, base_url) == (200, {
            "status": "degraded",
            "checks": {"database": "ok", "migrations": "ok", "cache": "degraded"},
            "degraded": ["cache"],
        })
    finally:
        host.check_output(f"sudo docker start {cache_name}")
    deadline = time.monotonic() + HEALTHY_AGAIN_WITHIN
    while health(host, cache_name) != "healthy" or readyz(http, base_url)[1].get("status") != "ok":
        assert time.monotonic() < deadline, f"the cache not healthy and used again {HEALTHY_AGAIN_WITHIN}s after its start"
        time.sleep(1)
