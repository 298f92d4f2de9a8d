"""The built image, run as production runs it, against a real PostgreSQL."""

import hashlib
import os
import re
import time
import tomllib
from datetime import datetime
from pathlib import Path

import requests
from image_helpers import HARDENING, docker, inspect

ROOT = Path(__file__).resolve().parents[2]
APP_VERSION = tomllib.loads((ROOT / "app/pyproject.toml").read_text())["project"]["version"]
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def get(web, path, **kwargs):
    return requests.get(web["url"] + path, timeout=10, **kwargs)


def exec_in(web, *cmd):
    return docker("exec", web["name"], *cmd, check=False)


def test_migrate_ran_in_the_image(migrated):
    assert "Applying" in migrated.stdout or "No migrations to apply" in migrated.stdout


def test_healthz(web):
    response = get(web, "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_migrations_ok(web):
    response = get(web, "/readyz")
    assert response.status_code == 200, response.text
    # No CACHE_URL here: the cache is the process's memory, which always answers (test_cache.py
    # runs the image with the cache server).
    assert response.json() == {
        "status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}


def test_version_reports_the_build_args(web, revision):
    body = get(web, "/version").json()
    assert body["revision"] == revision
    assert body["version"] == os.environ.get("VERSION", APP_VERSION)
    datetime.fromisoformat(body["built"])


def test_api_lists_books_as_json(web):
    response = get(web, "/api/v1/books/")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "results" in response.json()


def test_unknown_api_path_is_a_json_404(web):
    response = get(web, "/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")


def test_catalog_page_and_its_stylesheet_are_served(web):
    # Templates and static files of app/ made it into the image; the stylesheet was collected
    # at build time (hashed name) and is served by WhiteNoise from the read-only root.
    page = get(web, "/")
    assert page.status_code == 200, page.text[:500]
    assert page.headers["Content-Type"].startswith("text/html")
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page.text)
    assert stylesheets, "the page links no stylesheet"
    for href in stylesheets:
        css = get(web, href)
        assert css.status_code == 200, href
        assert css.headers["Content-Type"].startswith("text/css")


def test_runs_as_non_root_user(web, image):
    assert inspect(image)["Config"]["User"] in ("10001:10001", "10001", "app")
    assert exec_in(web, "id", "-u").stdout.strip() == "10001"
    # PID 1 (gunicorn's master) and its workers, not just the exec'd shell.
    uids = exec_in(web, "sh", "-c", "grep -h '^Uid:' /proc/[0-9]*/status").stdout.split("\n")
    assert uids and all(line.split()[1] == "10001" for line in uids if line), uids


def test_hardened_runtime(web):
    host_config = inspect(web["name"])["HostConfig"]
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host_config["SecurityOpt"]
    assert exec_in(web, "touch", "/app/written").returncode != 0  # read-only root
    assert exec_in(web, "touch", "/tmp/written").returncode == 0  # the tmpfs
    caps = exec_in(web, "grep", "^CapEff:", "/proc/1/status").stdout.split()[1]
    assert int(caps, 16) == 0


def test_healthcheck_turns_healthy(web, web_https, image):
    assert "/healthz" in " ".join(inspect(image)["Config"]["Healthcheck"]["Test"])
    deadline = time.monotonic() + 90
    for name in (web["name"], web_https):
        while (status := inspect(name)["State"]["Health"]["Status"]) != "healthy":
            assert status != "unhealthy", (name, inspect(name)["State"]["Health"]["Log"])
            assert time.monotonic() < deadline, f"{name} still {status} after 90 s"
            time.sleep(1)


def test_oci_labels_and_build_env(image, revision):
    config = inspect(image)["Config"]
    labels = config["Labels"]
    prefix = "org.opencontainers.image."
    assert labels[prefix + "revision"] == revision
    assert labels[prefix + "version"] == os.environ.get("VERSION", APP_VERSION)
    assert labels[prefix + "title"] == "library"
    assert labels[prefix + "source"] not in ("", "unknown")
    created = datetime.fromisoformat(labels[prefix + "created"])
    assert created.tzinfo is not None
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["LIBRARY_REVISION"] == revision
    assert env["LIBRARY_VERSION"] == labels[prefix + "version"]
    assert env["LIBRARY_BUILT"] == labels[prefix + "created"]
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert not any(key.startswith("DJANGO_") and key != "DJANGO_SETTINGS_MODULE" for key in env)
    assert "8000/tcp" in config["ExposedPorts"]


def test_image_holds_no_tests_dev_tools_or_caches(image, run_container):
    script = r"""
    for path in /app/tests /app/.venv /app/db.sqlite3 /app/.env /opt/uv /opt/venv/bin/pytest \
                /opt/venv/bin/uv /opt/venv/bin/pip /root/.cache /run/secrets/ca; do
      [ -e "$path" ] && echo "present: $path"
    done
    command -v uv pip pytest | sed 's/^/on PATH: /'
    python -c 'import pytest' 2>/dev/null && echo 'importable: pytest'
    python -c 'import pytest_django' 2>/dev/null && echo 'importable: pytest_django'
    find /app /opt/venv \( -name '*.pyc' -o -name __pycache__ \) | sed 's/^/bytecode: /'
    find /app \( -name tests -o -name tests.py -o -name 'test_*.py' -o -name '*_test.py' \
         -o -name conftest.py \) | sed 's/^/test code: /'
    ls /var/lib/apt/lists | grep -v -e '^partial$' -e '^lock$' | sed 's/^/apt list: /'
    ls /var/cache/apt/archives | grep '\.deb$' | sed 's/^/apt cache: /'
    true
    """
    _, result = run_container(
        "--user", "0", "--entrypoint", "sh", image, "-c", script, name="inspect", detach=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_proxy_ca_is_in_no_layer(image, run_container):
    # The CA was handed in as a BuildKit secret; no file in the image may be that bundle.
    if not HOST_CA.exists():
        return  # built without the secret: nothing to leak (e.g. on GitHub)
    digest = hashlib.sha256(HOST_CA.read_bytes()).hexdigest()
    size = HOST_CA.stat().st_size
    _, result = run_container(
        "--user", "0", "--entrypoint", "sh", image, "-c",
        f"find / -xdev -type f -size {size}c -exec sha256sum {{}} +",
        name="ca", detach=False,
    )
    assert digest not in result.stdout


def _exits_with_one_line(run_container, image, env, name):
    cname, result = run_container(image, env=env, name=name)
    assert result.returncode == 0, result.stderr
    exit_code = docker("wait", cname, timeout=60).stdout.strip()
    logs = docker("logs", cname)
    lines = [line for line in (logs.stdout + logs.stderr).splitlines() if line.strip()]
    return int(exit_code), lines


def test_missing_secret_key_stops_with_one_line(image, app_env, run_container):
    env = {k: v for k, v in app_env.items() if k != "DJANGO_SECRET_KEY"}
    exit_code, lines = _exits_with_one_line(run_container, image, env, "nokey")
    assert exit_code != 0
    assert len(lines) == 1, lines
    assert "DJANGO_SECRET_KEY" in lines[0]


def test_malformed_worker_count_stops_with_one_line(image, app_env, run_container):
    env = {**app_env, "GUNICORN_WORKERS": "lots"}
    exit_code, lines = _exits_with_one_line(run_container, image, env, "badworkers")
    assert exit_code != 0
    assert len(lines) == 1, lines
    assert re.search(r"GUNICORN_WORKERS.*'lots'", lines[0])


def test_stops_gracefully_on_sigterm(image, app_env, migrated, run_container):
    cname, result = run_container(*HARDENING, image, env=app_env, name="stop")
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 60
    while "Booting worker" not in docker("logs", cname).stderr:
        assert time.monotonic() < deadline, "gunicorn did not boot"
        time.sleep(0.5)
    started = time.monotonic()
    docker("stop", "--time", "15", cname)
    assert time.monotonic() - started < 12  # gunicorn's graceful_timeout, not a SIGKILL
    assert inspect(cname)["State"]["ExitCode"] == 0


def test_first_admin_gets_a_token_and_writes_are_guarded(web):
    admin = {"DJANGO_ADMIN_USERNAME": "imagetest", "DJANGO_ADMIN_EMAIL": "admin@example.invalid",
             "DJANGO_ADMIN_PASSWORD": "image-test-only-password"}
    env_args = [arg for key, value in admin.items() for arg in ("-e", f"{key}={value}")]
    created = docker("exec", *env_args, web["name"], "python", "manage.py", "ensure_admin")
    assert "imagetest" in created.stdout
    token = requests.post(
        web["url"] + "/api/v1/auth/token/", timeout=10,
        data={"username": "imagetest", "password": admin["DJANGO_ADMIN_PASSWORD"]},
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Token {token.json()['token']}"}
    assert get(web, "/api/v1/books/", headers=auth).status_code == 200
    anonymous = requests.post(web["url"] + "/api/v1/books/", json={"title": "x"}, timeout=10)
    assert anonymous.status_code in (401, 403)
    assert anonymous.headers["Content-Type"].startswith("application/json")


def test_no_pending_debian_upgrades(image, run_container):
    # The build applies Debian's pending (security) upgrades on top of the base image: with
    # today's package index, as root in the image, apt has nothing left to upgrade.
    _, result = run_container(
        "--user", "0", "--entrypoint", "sh", image, "-c",
        "apt-get update -qq >/dev/null && apt-get -s upgrade",
        name="upgrades", detach=False, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    pending = [line for line in lines if line.startswith(("Inst ", "Conf "))]
    assert pending == [], "pending upgrades in the image:\n" + "\n".join(pending)
    summary = [line for line in lines if " upgraded, " in line]
    assert summary and summary[0].startswith("0 upgraded, "), lines
    assert "kept back" not in result.stdout, result.stdout
