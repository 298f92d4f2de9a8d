"""The image with its cache server as compose.yaml defines the `cache` service: Valkey (the
release the lab pins when it can be pulled, else the stand-in from Debian's package, as the
lab chooses), run as compose runs it (its user, read-only root, no capability, its command and
health check), and a web container pointed at it by the name compose gives it. The image talks
to it, keeps its throttle counters there, and serves on while it is stopped."""

import json
import re
import time

import pytest
import requests
import yaml
from conftest import PREFIX
from image_helpers import HARDENING, ROOT, docker, inspect

# The cache's password, as a deploy gives it in .env (LIBRARY_CACHE_PASSWORD), and compose.yaml's
# address of the cache with it, as the web service gets it.
PASSWORD = "test-cache-password-0123456789abcdef"
ENV = {"LIBRARY_CACHE_PASSWORD": PASSWORD}
CACHE_URL = f"redis://:{PASSWORD}@cache:6379/0"


def interpolate(text, values):
    """compose's interpolation: $$ is a $, ${NAME:-default} is VALUES' NAME, else the default."""
    def one(match):
        if match.group(0) == "$$":
            return "$"
        return values.get(match.group(1)) or match.group(2) or ""
    return re.sub(r"\$\$|\$\{([A-Z_]+)(?::-([^}]*))?\}", one, text)


def compose_service(name):
    """A service of compose.yaml as compose makes it with ENV."""
    text = (ROOT / "compose" / "compose.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(interpolate(text, ENV))["services"][name]


def healthy(name, test):
    kind, *command = test
    assert kind in ("CMD", "CMD-SHELL"), test
    argv = ["sh", "-c", command[0]] if kind == "CMD-SHELL" else command
    return docker("exec", name, *argv, check=False).returncode == 0


def wait_running_until(name, done, seconds, what):
    """Poll done() while container NAME runs; fail with WHAT and its logs after SECONDS."""
    deadline = time.monotonic() + seconds
    while not done():
        if not inspect(name)["State"]["Running"] or time.monotonic() > deadline:
            logs = docker("logs", name, check=False)
            pytest.fail(f"{what}:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.5)


def readyz(base):
    try:
        response = requests.get(base + "/readyz", timeout=5)
    except requests.RequestException:
        return None, {}
    return response.status_code, response.json()


@pytest.fixture(scope="module")
def network():
    name = f"{PREFIX}-cache"
    docker("network", "create", name)
    yield name
    docker("network", "rm", name, check=False)


@pytest.fixture(scope="module")
def cache(valkey_image, network, run_container):
    service = compose_service("cache")
    assert service["cap_drop"] == ["ALL"] and "cap_add" not in service, service
    args = ["--user", service["user"], "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", service["mem_limit"], "--pids-limit", str(service["pids_limit"]),
            "--network", network, "--network-alias", "cache"]
    args += ["--read-only"] if service["read_only"] else []
    for key, value in service["environment"].items():
        args += ["--env", f"{key}={value}"]
    for path in service["tmpfs"]:
        args += ["--tmpfs", path]
    name, result = run_container(*args, valkey_image, *service["command"], name="cache")
    assert result.returncode == 0, result.stderr
    wait_running_until(name, lambda: healthy(name, service["healthcheck"]["test"]), 30,
                       "the cache is not healthy")
    yield {"name": name, "service": service}
    docker("rm", "--force", name, check=False)  # before its network goes


@pytest.fixture(scope="module")
def web_with_cache(image, app_env, migrated, run_container, cache, network):
    """web on the cache's network, as compose puts it on its own networks: names resolve
    through Docker's embedded DNS, as on a host (the test database's relay is reached on the
    host's address, as from the default bridge)."""
    env = {**app_env, "CACHE_URL": CACHE_URL}
    name, result = run_container(*HARDENING, "--network", network, "--publish", "127.0.0.1::8000",
                                 image, env=env, name="web-cache")
    assert result.returncode == 0, result.stderr
    port = docker("port", name, "8000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
    base = f"http://127.0.0.1:{port}"
    wait_running_until(name, lambda: readyz(base)[1].get("checks", {}).get("cache") == "ok", 60,
                       "web never saw its cache")
    yield {"name": name, "url": base}
    docker("rm", "--force", name, check=False)  # before its network goes


def test_compose_gives_web_the_cache_by_name():
    assert compose_service("web")["environment"]["CACHE_URL"] == CACHE_URL


def test_the_cache_runs_as_its_own_user_without_capabilities(cache):
    status = docker("exec", cache["name"], "cat", "/proc/1/status").stdout
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert set(fields["Uid"].split()) == {"999"}, fields["Uid"]
    assert int(fields["CapEff"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    written = docker("exec", cache["name"], "sh", "-c", "echo x > /usr/local/written", check=False)
    assert written.returncode != 0 and "Read-only file system" in written.stderr


def test_the_cache_refuses_a_client_without_its_password(cache):
    ping = docker("exec", "--env", "REDISCLI_AUTH=", cache["name"], "valkey-cli", "ping", check=False)
    assert "NOAUTH" in ping.stdout + ping.stderr, ping
    wrong = docker("exec", "--env", "REDISCLI_AUTH=wrong", cache["name"], "valkey-cli", "ping", check=False)
    assert "PONG" not in wrong.stdout, wrong
    args = docker("exec", cache["name"], "cat", "/proc/1/cmdline").stdout
    assert PASSWORD not in args, "the password is in the server's arguments"


def config(cache, key):
    lines = docker("exec", cache["name"], "valkey-cli", "config", "get", key).stdout.splitlines()
    assert lines[0] == key, lines
    return lines[1] if len(lines) > 1 else ""


def test_the_cache_keeps_nothing_and_evicts_the_least_recently_used(cache):
    assert config(cache, "save") == ""
    assert config(cache, "appendonly") == "no"
    assert config(cache, "maxmemory-policy") == "allkeys-lru"
    assert 0 < int(config(cache, "maxmemory")) < inspect(cache["name"])["HostConfig"]["Memory"]


def test_readyz_reports_the_cache_ok(web_with_cache):
    assert readyz(web_with_cache["url"]) == (200, {
        "status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}})


def test_the_throttle_counts_in_the_cache(web_with_cache, cache):
    assert requests.get(web_with_cache["url"] + "/api/v1/books/", timeout=10).status_code == 200
    keys = docker("exec", cache["name"], "valkey-cli", "--scan", "--pattern", ":1:throttle_anon_*")
    assert keys.stdout.split(), "no throttle counter in the cache"


def test_web_serves_on_while_the_cache_is_stopped_and_uses_it_again(web_with_cache, cache):
    base = web_with_cache["url"]
    docker("stop", cache["name"])
    stopped = time.monotonic()
    try:
        for path in ("/api/v1/books/", "/", "/api/v1/authors/"):
            started = time.monotonic()
            assert requests.get(base + path, timeout=10).status_code == 200, path
            took = time.monotonic() - started
            assert took < 5, f"{path}: {took:.1f} s without the cache"
        # Each web process reuses its /readyz answer for a second (core.health.READY_TTL): once
        # that has passed since the stop, whichever process answers checks the cache afresh.
        time.sleep(max(0.0, stopped + 1.5 - time.monotonic()))
        assert readyz(base) == (200, {
            "status": "degraded",
            "checks": {"database": "ok", "migrations": "ok", "cache": "degraded"},
            "degraded": ["cache"],
        })
        logs = docker("logs", "--since", "1m", web_with_cache["name"]).stdout.splitlines()
        outage = [json.loads(line) for line in logs if '"logger": "core.cache"' in line]
        assert outage and outage[0]["message"].startswith("cache unavailable, serving without it")
    finally:
        docker("start", cache["name"])
    deadline = time.monotonic() + 30
    while readyz(base)[1].get("status") != "ok":
        assert time.monotonic() < deadline, f"web not using its cache again: {readyz(base)}"
        time.sleep(0.5)
