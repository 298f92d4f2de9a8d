"""The operator's commands against the lab, as an operator runs them: `make status`, `make logs`,
`make exec` and `make prune` with ENV=lab, asserting on what they print. They change nothing a
user sees (prune removes only what nothing uses), so they run on whatever revision the lab
serves: the one every host's /version reports (the lifecycle leaves it at another than the
first)."""

import os
import queue
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests
from conftest import (
    HOSTS,
    REGISTRY,
    ROOT,
    get,
    make_env,
    make_lab,
    release_records,
    ssh,
    status_rows,
    wait_for,
)

REPOSITORY = f"{REGISTRY}/library"


@pytest.fixture(scope="module")
def running_revision():
    """The revision the lab serves: every host's /version must agree."""
    answers = {name: get(f"http://{ip}/version").json()["revision"] for name, ip in HOSTS.items()}
    assert len(set(answers.values())) == 1, answers
    return next(iter(answers.values()))


def test_status_shows_every_host_at_the_revision_it_serves_with_healthy_services(running_revision):
    r = make_lab("status")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = status_rows(r.stdout)
    assert set(rows) == set(HOSTS), r.stdout[-3000:]
    for name, row in rows.items():
        assert row["REVISION"] == running_revision, row
        # The digest web runs is the one releases.log recorded for the release it runs.
        digest = next(record["digest"] for record in reversed(release_records(name))
                      if record["revision"] == running_revision and record["result"] == "ok")
        assert row["IMAGE"] == digest[:19], (row, digest)
        assert [row["PROXY"], row["WEB"], row["DB"]] == ["healthy", "healthy", "healthy"], row
        assert re.fullmatch(r"\d+% of \S+", row["DISK /"]), row
        assert re.fullmatch(r"\d+[smhd] ago", row["LAST BACKUP"]), row


def test_logs_show_every_hosts_requests_prefixed_with_the_host():
    marker = uuid.uuid4().hex
    for ip in HOSTS.values():  # the request log names the path: a page that is not there
        assert get(f"http://{ip}/e2e-logs-{marker}/").status_code == 404

    def found():
        r = make_lab("logs", "SINCE=5m", "SERVICE=web", f"GREP={marker}")
        assert r.returncode == 0, r.stderr[-3000:]
        lines = r.stdout.splitlines()
        hosts = {line.split(" | ")[0] for line in lines}
        return lines if hosts == set(HOSTS) else None

    lines = wait_for("a request's log line on every host", found, seconds=60, interval=3)
    for line in lines:
        host, service, rest = line.split(" | ", 2)
        assert host in HOSTS and service.strip().startswith("web-"), line
        assert rest[:4].isdigit() and marker in rest, line  # a timestamp, then the request's line


def test_logs_follow_prints_lines_as_they_come_until_stopped():
    marker = uuid.uuid4().hex
    follow = subprocess.Popen(
        ["make", "--silent", "--no-print-directory", "-C", ROOT, "logs", "ENV=lab", "SERVICE=web", "SINCE=1s",
         f"GREP={marker}", "FOLLOW=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        env=make_env())
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follow.stdout], daemon=True).start()
    try:
        seen = set()
        deadline = time.monotonic() + 90
        while seen != set(HOSTS) and time.monotonic() < deadline:
            for ip in HOSTS.values():  # asked again until each host's line came through
                get(f"http://{ip}/e2e-follow-{marker}/")
            try:
                while True:
                    line = lines.get(timeout=3)
                    assert marker in line, line
                    seen.add(line.split(" | ")[0])
            except queue.Empty:
                pass
        assert seen == set(HOSTS), seen
        assert follow.poll() is None  # still following
    finally:
        os.killpg(follow.pid, signal.SIGINT)
        follow.wait(timeout=30)

    def followers_gone():
        return all(ssh(name, "pgrep -f '[l]ogs --timestamps --since 1s --follow'").returncode == 1
                   for name in HOSTS)

    # Hung up on: compose does not follow on, on any host.
    wait_for("the hosts' compose logs --follow to end", followers_gone, seconds=20)


def test_exec_runs_a_management_command_reading_stdin_in_a_one_off_container(admin_username):
    script = ("from django.contrib.auth import get_user_model\n"
              f"print('admin exists:', get_user_model().objects.filter(username={admin_username!r}).exists())\n")
    r = make_lab("exec", "HOST=lab-1", "CMD=manage.py shell", stdin=script)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "admin exists: True" in r.stdout, r.stdout[-3000:]
    # The one-off container is gone.
    left = ssh("lab-1", "sudo docker ps -a --filter label=com.docker.compose.oneoff=True --format '{{.Names}}'")
    assert left.returncode == 0 and left.stdout.strip() == "", left.stdout


def test_exec_passes_quoted_arguments_and_the_commands_exit_status():
    r = make_lab("exec", "HOST=lab-2", """CMD=manage.py shell -c "import sys; print('a; b | c'); sys.exit(3)\"""")
    assert r.returncode != 0
    assert "a; b | c" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]


def test_exec_refuses_a_host_of_another_inventory_before_any_connection():
    r = make_lab("exec", "HOST=library-prod-1", "CMD=manage.py check")
    assert r.returncode != 0
    assert "exec: HOST 'library-prod-1' is not a host of lab (hosts: lab-1 lab-2)" in r.stderr


def test_prune_removes_a_stopped_container_and_keeps_what_serves(running_revision):
    proxy_image = ssh("lab-1", "sudo docker inspect -f '{{.Config.Image}}' library-proxy-1").stdout.strip()
    stopped = ssh("lab-1", f"sudo docker run -d --name e2e-prune-{uuid.uuid4().hex[:8]} {proxy_image} true")
    assert stopped.returncode == 0, stopped.stderr
    container_id = stopped.stdout.strip()
    wait_for("the container to stop", lambda: ssh(
        "lab-1", f"sudo docker inspect -f '{{{{.State.Status}}}}' {container_id}").stdout.strip() == "exited")

    # A release tag no releases.log record names (as a release older than the ones kept would be).
    old_tag = f"{REPOSITORY}:e2e-never-released-{uuid.uuid4().hex[:8]}"
    tagged = ssh("lab-1", f"sudo docker tag {REPOSITORY}:{running_revision} {old_tag}")
    assert tagged.returncode == 0, tagged.stderr

    r = make_lab("prune")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in HOSTS:
        assert f"{name} reclaimed " in r.stdout, r.stdout[-3000:]
    assert f"release images removed: {old_tag}" in r.stdout, r.stdout[-3000:]
    assert container_id in r.stdout  # named among the stopped containers removed
    assert ssh("lab-1", f"sudo docker inspect {container_id}").returncode != 0
    assert ssh("lab-1", f"sudo docker image inspect {old_tag}").returncode != 0
    # Everything that serves is still there, at the same revision.
    for name, ip in HOSTS.items():
        assert get(f"http://{ip}/readyz").status_code == 200
        assert get(f"http://{ip}/version").json()["revision"] == running_revision
        tags = ssh(name, f"sudo docker images --format '{{{{.Tag}}}}' {REPOSITORY}").stdout.split()
        assert running_revision in tags, tags


def test_prune_left_the_deploy_lock_free():
    r = make_lab("status")
    assert r.returncode == 0
    assert status_rows(r.stdout)["lab-1"]["LOCK"] == "free", r.stdout[-2000:]


@pytest.fixture(autouse=True)
def _lab_answers():
    """These tests need the lab up: fail at once, saying so, if it is not."""
    try:
        get(f"http://{HOSTS['lab-1']}/healthz")
    except requests.RequestException as e:
        pytest.fail(f"the lab does not answer ({e}): deploy/lab/lab up first")
