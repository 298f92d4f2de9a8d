"""tools/stacks/remote.py, what `logs` and `exec` send over ssh: the ssh argv (the run's options
first, then the inventory's), the remote compose command line (every word quoted: a real sh parses
it here, with `sudo` and `docker` as recorders, and runs nothing of the operator's), and how the
hosts' log lines are cleaned, filtered, prefixed and merged. stream_logs runs small Python
processes standing in for ssh, in an environment the test builds."""

from __future__ import annotations

import functools
import io
import json
import shlex
import subprocess
import sys

import pytest
from stacks import remote

SETTINGS = {"host": "192.0.2.2", "port": "2222", "user": "deploy", "key": "/env/id_test",
            "common_args": "-o UserKnownHostsFile=/env/known_hosts -o StrictHostKeyChecking=yes", "extra_args": "",
            "library_dir": "/opt/library", "library_project_name": "library"}
SCRIPT = 'cd "$1" && shift && exec docker compose "$@"'
HOSTILE = ["manage.py", "shell", "-c", "print('a b'); import os", "$HOME", "`touch MARKER`", "$(touch MARKER)", "a;b"]


def test_ssh_gets_the_runs_options_first_then_the_inventorys():
    argv = remote.ssh_argv(SETTINGS, ["-o", "IdentityFile=/run/ssh_key"], "-tt")
    assert argv == ["ssh", "-tt", "-o", "IdentityFile=/run/ssh_key", "-p", "2222", "-l", "deploy", "-i", "/env/id_test",
                    "-o", "UserKnownHostsFile=/env/known_hosts", "-o", "StrictHostKeyChecking=yes",
                    "-o", "ConnectTimeout=10", "192.0.2.2"]
    assert remote.ssh_argv({"host": "web1", "port": "", "user": ""}) == ["ssh", "-o", "ConnectTimeout=10", "web1"]


def test_the_logs_command_is_compose_logs_in_the_project_folder_as_root():
    words = shlex.split(remote.logs_command(SETTINGS, "1h30m", True, "web"))
    assert words == ["sudo", "sh", "-c", SCRIPT, "library-compose", "/opt/library", "-p", "library", "--ansi", "never",
                     "logs", "--timestamps", "--since", "1h30m", "--follow", "web"]
    assert shlex.split(remote.logs_command(SETTINGS, "10m", False))[-4:] == ["logs", "--timestamps", "--since", "10m"]


def test_exec_asks_for_no_terminal_in_the_container_unless_it_has_one():
    without = shlex.split(remote.manage_command(SETTINGS, False, ["manage.py", "check"]))
    assert without[10:] == ["run", "--rm", "--no-deps", "-T", "web", "python", "manage.py", "check"]
    assert "-T" not in shlex.split(remote.manage_command(SETTINGS, True, ["manage.py", "check"]))


def test_the_hosts_shell_reads_every_word_of_the_command_as_data(tmp_path):
    """sh parses the line as the host's login shell would; sudo runs what it is given, docker
    records its argv: the words arrive unchanged and nothing of the operator's ran."""
    bin_dir, project = tmp_path / "bin", tmp_path / "opt library"
    bin_dir.mkdir(), project.mkdir()
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n', encoding="utf-8")
    (bin_dir / "docker").write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                                    "json.dump({'cwd': os.getcwd(), 'argv': sys.argv[1:]}, sys.stdout)\n",
                                    encoding="utf-8")
    for tool in ("sudo", "docker"):
        (bin_dir / tool).chmod(0o755)
    line = remote.manage_command({**SETTINGS, "library_dir": str(project)}, False, HOSTILE)
    result = subprocess.run(["/bin/sh", "-c", line], cwd=tmp_path, capture_output=True, text=True, check=True,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"})
    seen = json.loads(result.stdout)
    assert seen["cwd"] == str(project)
    assert seen["argv"] == ["compose", "-p", "library", "--ansi", "never", "run", "--rm", "--no-deps", "-T", "web",
                            "python", *HOSTILE]
    assert not (tmp_path / "MARKER").exists() and not (project / "MARKER").exists()


SWARM = {**SETTINGS, "library_engine": "swarm"}
# A node's docker, for the swarm scripts: two tasks of the stack run here (web and proxy), and
# each docker call is recorded in CALLS.
FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$1" in
  ps) case "$*" in
        *service.name=library_web*) echo aaa ;;
        *service.name=*) ;;
        *) printf 'aaa\\nbbb\\n' ;;
      esac ;;
  inspect) [ "$4" = aaa ] && echo library_web || echo library_proxy ;;
  logs) shift; echo "2026-12-07T10:00:00Z logs $*" ;;
  exec) shift; echo "exec $*" ;;
esac
"""


def node(tmp_path):
    """A PATH with sudo (runs what it is given) and the fake docker, and the file of its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n', encoding="utf-8")
    (bin_dir / "docker").write_text(FAKE_DOCKER, encoding="utf-8")
    for tool in ("sudo", "docker"):
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls"
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), "LANG": "C.UTF-8"}, calls


def on_node(line, env, tmp_path):
    return subprocess.run(["/bin/sh", "-c", line], cwd=tmp_path, capture_output=True, text=True, env=env,
                          check=False)


def test_swarm_logs_are_each_local_tasks_logs_named_by_service(tmp_path):
    env, calls = node(tmp_path)
    result = on_node(remote.logs_command(SWARM, "10m", False), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ["proxy | 2026-12-07T10:00:00Z logs --timestamps --since 10m bbb",
                                                  "web | 2026-12-07T10:00:00Z logs --timestamps --since 10m aaa"]
    assert "ps -q --filter label=com.docker.stack.namespace=library" in calls.read_text()


def test_swarm_logs_of_one_service_follow_when_asked(tmp_path):
    env, calls = node(tmp_path)
    result = on_node(remote.logs_command(SWARM, "1s", True, "web"), env, tmp_path)
    assert result.stdout.splitlines() == ["web | 2026-12-07T10:00:00Z logs --timestamps --since 1s --follow aaa"]
    assert "ps -q --filter label=com.docker.swarm.service.name=library_web" in calls.read_text()


def test_swarm_exec_runs_in_the_nodes_web_task_with_every_word_as_data(tmp_path):
    env, _ = node(tmp_path)
    result = on_node(remote.manage_command(SWARM, False, HOSTILE), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exec -i aaa python " + " ".join(HOSTILE)
    assert not (tmp_path / "MARKER").exists()
    assert on_node(remote.manage_command(SWARM, True, ["manage.py", "check"]), env, tmp_path).stdout.startswith(
        "exec -i -t aaa python")


def test_swarm_exec_on_a_node_without_web_says_so(tmp_path):
    env, _ = node(tmp_path)
    result = on_node(remote.manage_command({**SWARM, "library_project_name": "other"}, False, ["manage.py"]),
                     env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "no web task runs on this node: choose another HOST"


def test_a_line_loses_its_terminal_control_codes_and_carriage_return():
    assert remote.plain("\x1b[2Kweb-1  | 2026-11-30T10:00:00Z \x1b[31mred\x1b[0m\r\n") == "web-1  | 2026-11-30T10:00:00Z red"


def test_lines_merge_in_time_order_keeping_each_hosts_order_for_equal_times():
    merged = remote.merged({
        "web1": ["web-1  | 2026-11-30T10:00:02Z c", "proxy-1  | 2026-11-30T10:00:00Z a", "web-1  | 2026-11-30T10:00:00Z a2"],
        "web2": ["web-1  | 2026-11-30T10:00:01Z b"],
    })
    assert merged == ["web1 | proxy-1  | 2026-11-30T10:00:00Z a", "web1 | web-1  | 2026-11-30T10:00:00Z a2",
                      "web2 | web-1  | 2026-11-30T10:00:01Z b", "web1 | web-1  | 2026-11-30T10:00:02Z c"]


def log_line(service: str, time: str, text: str) -> str:
    """A line as compose 2.26 writes it: it begins with a code that clears the terminal's line."""
    return f"\x1b[2K{service}  | {time} {text}\n"


ANSWER = "import sys; sys.stdout.write(sys.argv[1]); sys.stderr.write(sys.argv[2]); sys.exit(int(sys.argv[3]))"


@pytest.fixture
def hosts(monkeypatch, tmp_path):
    """{host: (stdout, stderr, status)} -> the argv of a stand-in for its ssh. stream_logs passes
    no environment of its own, so the stand-ins are started in one built here."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    monkeypatch.setattr(subprocess, "Popen", functools.partial(subprocess.Popen, env=env))
    return lambda answers: {host: [sys.executable, "-c", ANSWER, out, err, str(rc)]
                            for host, (out, err, rc) in answers.items()}


def stream(argvs, pattern="", follow=False):
    out, err = io.StringIO(), io.StringIO()
    failed = remote.stream_logs(argvs, {host: "compose logs" for host in argvs}, pattern, follow, out, err)
    return failed, out.getvalue(), err.getvalue()


def test_logs_of_every_host_come_merged_in_time_order_prefixed_with_the_host(hosts):
    failed, out, err = stream(hosts({
        "web1": (log_line("web-1", "2026-11-30T10:00:02.000000001Z", "third")
                 + log_line("proxy-1", "2026-11-30T10:00:00.500000000Z", "first"), "", 0),
        "web2": (log_line("web-1", "2026-11-30T10:00:01.000000000Z", "\x1b[31msecond\x1b[0m"), "a warning\n", 0),
    }))
    assert failed == []
    assert out.splitlines() == ["web1 | proxy-1  | 2026-11-30T10:00:00.500000000Z first",
                                "web2 | web-1  | 2026-11-30T10:00:01.000000000Z second",
                                "web1 | web-1  | 2026-11-30T10:00:02.000000001Z third"]
    assert err == "web2 | a warning\n"


def test_following_prints_the_matching_lines_and_names_the_host_that_failed(hosts):
    failed, out, err = stream(hosts({
        "web1": (log_line("web-1", "2026-11-30T10:00:00Z", '"GET /api/v1/books/" 200')
                 + log_line("web-1", "2026-11-30T10:00:01Z", '"GET /healthz" 200'), "", 0),
        "web2": ("", "ssh: connect to host 192.0.2.2 port 2222: Connection refused\n", 255),
    }), pattern="books", follow=True)
    assert failed == ["web2"]
    assert out == 'web1 | web-1  | 2026-11-30T10:00:00Z "GET /api/v1/books/" 200\n'
    assert err == "web2 | ssh: connect to host 192.0.2.2 port 2222: Connection refused\n"


def test_the_remote_command_reaches_ssh_as_its_last_argument(hosts, tmp_path):
    record = tmp_path / "argv.json"
    argvs = {"web1": [sys.executable, "-c", f"import json, sys; json.dump(sys.argv[1:], open({str(record)!r}, 'w'))",
                      "-o", "ConnectTimeout=10", "192.0.2.1"]}
    line = remote.logs_command(SETTINGS, "10m", False)
    assert remote.stream_logs(argvs, {"web1": line}, "", False, io.StringIO(), io.StringIO()) == []
    assert json.loads(record.read_text(encoding="utf-8")) == ["-o", "ConnectTimeout=10", "192.0.2.1", line]
