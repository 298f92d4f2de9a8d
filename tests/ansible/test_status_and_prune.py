"""ansible/status.yml (`make status`) and ansible/prune.yml (`make prune`) through the stacks command
against fake hosts asked with a local connection: a loopback server plays the proxy's /version,
releases.log and the deploy lock are files in a temporary folder, and DOCKER_HOST names a socket
that does not exist, so no Docker of this machine is looked at or pruned. A host reached over
ssh meets a recorder that refuses the connection (ANSIBLE_SSH_EXECUTABLE). The table's layout
(filter_plugins/status.py) is checked on its own at the end."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from ansible_helpers import ANSIBLE_DIR, RECORDING_SSH, ROOT
from ansible_results import JSON_CALLBACK, read_run

GOOD = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:" + "ab" * 32
HOLDER = f'who: "ada@box"\nsince: "2026-11-30T12:00:00Z"\nrevision: "{GOOD}"\nid: "someone-elses"\n'
TABLE_TASK = "Print one table, a row per host"

spec = importlib.util.spec_from_file_location("status_filters", ANSIBLE_DIR / "filter_plugins" / "status.py")
status_filters = importlib.util.module_from_spec(spec)
spec.loader.exec_module(status_filters)


@pytest.fixture
def version_server():
    """A proxy that answers /version with GOOD."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"version": "1", "revision": GOOD, "built": "2026-01-01T00:00:00Z"}).encode()
            self.send_response(200 if self.path == "/version" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def release(minute, revision, result="ok", kind="deploy"):
    """A line of releases.log as the role writes it (library/tasks/release/record_release.yml)."""
    return json.dumps({"time": f"2026-11-30T10:{minute:02d}:00Z", "revision": revision, "result": result,
                       "deployer": f"ci tester/run/{minute}", "digest": DIGEST, "kind": kind})


@pytest.fixture
def fleet(tmp_path):
    """An environment `ci` under tmp_path/envs whose hosts are folders of tmp_path: web1 (the
    lock host) and web2 answer locally, web3 only over ssh (refused)."""

    def make(hostvars: dict[str, dict]):
        hosts = {}
        for name, values in hostvars.items():
            (tmp_path / name).mkdir()
            local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "library_dir": str(tmp_path / name)}
            hosts[name] = {**local, **values}
        envdir = tmp_path / "envs" / "ci"
        envdir.mkdir(parents=True)
        (envdir / "inventory.yml").write_text(yaml.safe_dump({"library": {"hosts": hosts, "vars": {
            "ansible_become": False,  # the tests run as whoever runs them, without sudo
            "library_allowed_hosts": ["localhost"],
            "library_image_repository": "registry.invalid/library",
            "library_lock_path": str(tmp_path / "lock"),
        }}}), encoding="utf-8")
        ssh = tmp_path / "ssh"
        ssh.write_text(RECORDING_SSH, encoding="utf-8")
        ssh.chmod(0o755)
        (tmp_path / "ssh-calls.jsonl").touch()
        # The command's whole environment, nothing inherited (a CI runner's RUNNER_TEMP, GITHUB_*...).
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "DEPLOY_ENVIRONMENTS": str(tmp_path / "envs"),
            "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock",
            "ANSIBLE_SSH_EXECUTABLE": str(ssh),
            "ANSIBLE_SSH_RETRIES": "0",
            "SSH_RECORD": str(tmp_path / "ssh-calls.jsonl"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
            **JSON_CALLBACK,
        }

    return make


def tool(name, env, *args):
    return read_run(subprocess.run([str(ROOT / ".venv" / "bin" / "stacks"), name, "ci", *args], capture_output=True,
                                   text=True, env=env, timeout=180, check=False))


def table(run) -> list[str]:
    (msg,) = [result["msg"] for name, _, result in run.results() if name == TABLE_TASK]
    return msg.splitlines()


def test_status_prints_one_row_per_host_whatever_each_one_answers(tmp_path, fleet, version_server):
    env = fleet({
        "web1": {"library_http_port": version_server},
        "web2": {"library_http_port": 1},  # no proxy answers
        "web3": {"ansible_connection": "ssh", "ansible_host": "192.0.2.1"},  # unreachable
    })
    (tmp_path / "web1" / "releases.log").write_text("\n".join([
        release(0, "a" * 40), release(1, "b" * 40), release(2, "c" * 40, "failed"),
        release(3, GOOD, kind="rollback")]) + "\n", encoding="utf-8")
    # web2's log is not JSON lines (a positional text line): no reader takes it.
    web2_log = tmp_path / "web2" / "releases.log"
    web2_log.write_text(f"2026-11-30T10:00:00Z {GOOD} ok ada@box {DIGEST}\n", encoding="utf-8")
    (tmp_path / "lock").mkdir()
    (tmp_path / "lock" / "holder").write_text(HOLDER, encoding="utf-8")

    run = tool("status", env)
    lines = table(run)
    assert lines[0].split() == ["HOST", "REVISION", "IMAGE", "PROXY", "WEB", "DB", "LAST", "BACKUP", "RESTORE", "DRILL",
                                "DISK", "/", "DISK", "/VAR/LIB/DOCKER", "LOCK", "LAST", "RELEASES"], lines
    rows = {line.split()[0]: line for line in lines[1:] if not line.startswith(" ")}
    assert set(rows) == {"web1", "web2", "web3"}
    # web1: the revision its proxy serves, the lock it holds, its last three releases newest first.
    assert f"web1  {GOOD}  " in rows["web1"]
    assert "held by ada@box since 2026-11-30T12:00:00Z for " + GOOD in rows["web1"]
    assert rows["web1"].endswith(f"2026-11-30T10:03:00Z {GOOD[:12]} ok ci tester/run/3 rollback")
    continued = lines[lines.index(rows["web1"]) + 1: lines.index(rows["web1"]) + 3]
    assert [line.strip() for line in continued] == [
        f"2026-11-30T10:02:00Z {'c' * 12} failed ci tester/run/2", f"2026-11-30T10:01:00Z {'b' * 12} ok ci tester/run/1"]
    # No backup repository host in this inventory: the bundled databases have no backups, nor drills.
    assert "  backups off  -  " in rows["web1"]
    # Docker did not answer: its columns say so; the disks were measured all the same.
    assert rows["web1"].count("docker error") == 3 and "% of " in rows["web1"]
    # web2: no proxy answer and no container: the revision says where it looked.
    assert "? (image label; /version: -1)" in rows["web2"]
    assert "on web1" in rows["web2"]
    # Its log that does not parse: one error naming the file and line, and a row all the same.
    assert rows["web2"].endswith(f"unreadable: {web2_log}"), rows["web2"]
    assert f"{web2_log} line 1 is not JSON" in run.text
    # web3 did not answer at all: a row all the same.
    assert rows["web3"].split()[:2] == ["web3", "unreachable"]
    # Read only: the lock is still someone else's.
    assert (tmp_path / "lock" / "holder").read_text(encoding="utf-8") == HOLDER


def test_prune_stops_at_once_when_someone_holds_the_deploy_lock_and_leaves_it(tmp_path, fleet):
    env = fleet({"web1": {}})
    (tmp_path / "web1" / "releases.log").write_text(release(0, GOOD) + "\n", encoding="utf-8")
    (tmp_path / "lock").mkdir()
    (tmp_path / "lock" / "holder").write_text(HOLDER, encoding="utf-8")
    run = tool("prune", env)
    assert run.rc != 0
    assert "The deploy lock of this environment is held by ada@box since 2026-11-30T12:00:00Z" in run.text
    assert not run.ran("library : Remove stopped containers")
    assert "prune: prune.yml failed on ci" in run.stderr
    assert (tmp_path / "lock" / "holder").read_text(encoding="utf-8") == HOLDER


def test_prune_that_fails_releases_its_own_lock(tmp_path, fleet):
    env = fleet({"web1": {}})
    run = tool("prune", env)
    assert run.rc != 0
    # It took the lock (docker, which does not answer here, failed after that), then let it go.
    assert run.ran("library : Take the deploy lock")
    assert "Error connecting" in run.text
    assert not (tmp_path / "lock").exists()


@pytest.mark.parametrize(("status", "state"), [
    ("Up 3 minutes (healthy)", "healthy"), ("Up 3 minutes (unhealthy)", "unhealthy"),
    ("Up 2 seconds (health: starting)", "starting"), ("Up 3 minutes", "running"),
])
def test_a_running_container_is_named_by_its_health(status, state):
    container = {"State": "running", "Status": status,
                 "Labels": {"com.docker.compose.service": "web", "com.docker.compose.oneoff": "False"}}
    assert status_filters.library_service_states([container], "web") == [state]


def test_one_off_and_other_services_containers_are_not_the_service():
    def container(service, oneoff="False", state="running"):
        return {"State": state, "Status": "Exited (0)", "Labels": {
            "com.docker.compose.service": service, "com.docker.compose.oneoff": oneoff}}

    containers = [container("web", state="exited"), container("web", oneoff="True"), container("db")]
    assert status_filters.library_service_states(containers, "web") == ["exited"]
    assert status_filters.library_service_states(containers, "proxy") == []


def test_a_swarms_tasks_are_their_services_containers():
    def task(service, status):
        return {"State": "running", "Status": status, "Labels": {"com.docker.swarm.service.name": f"library_{service}",
                                                               "com.docker.stack.namespace": "library"}}

    tasks = [task("web", "Up 1 minute (healthy)"), task("web", "Up 2 seconds (health: starting)"),
             task("proxy", "Up 1 minute")]
    assert status_filters.library_service_states(tasks, "web") == ["healthy", "starting"]
    assert status_filters.library_service_states(tasks, "proxy") == ["running"]
    assert status_filters.library_service_states(tasks, "db") == []


@pytest.mark.parametrize(("kind", "extra", "ending"), [
    ("deploy", {"restore_point": {"name": "before-x", "time": "2026-11-30T09:59:58Z"}}, "ok ada lovelace"),
    ("rollback", {}, "ok ada lovelace rollback"),
    ("restore", {"restored_from": "latest"}, "ok ada lovelace restore"),
])
def test_a_release_is_one_short_line_naming_its_kind_unless_a_deploy(kind, extra, ending):
    record = {"time": "2026-11-30T10:00:00Z", "revision": GOOD, "result": "ok", "deployer": "ada lovelace",
              "digest": DIGEST, "kind": kind, **extra}
    assert status_filters.library_release_summary(record) == f"2026-11-30T10:00:00Z {GOOD[:12]} {ending}"


def test_the_table_takes_its_columns_from_the_rows_and_spreads_a_list_over_lines():
    rows = [{"host": "a", "revision": "r1", "last releases": ["one", "two"]},
            {"host": "bb", "revision": "unreachable"},
            {"host": "c", "revision": "r3", "backup age": "2h"}]
    assert status_filters.library_table(rows).splitlines() == [
        "HOST  REVISION     LAST RELEASES  BACKUP AGE",
        "a     r1           one            -",
        "                   two",
        "bb    unreachable  -              -",
        "c     r3           -              2h",
    ]
