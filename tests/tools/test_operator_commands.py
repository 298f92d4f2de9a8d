"""The operator commands that ssh to the hosts themselves, tools/logs (`make logs`) and
tools/manage (`make exec`), and the input checks of every operation (status, logs, exec, prune):
bad input fails early with one line naming the variable, before any host is contacted. ssh is a
fake on PATH that records its argv and stdin and prints what the test tells it to, so the
quoting of the remote command and the prefixing of each host's lines are seen exactly; no host
is contacted (the production and staging inventories hold example addresses)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"

# Records each call (argv, stdin) and answers as FAKE_SSH_ANSWERS says for the address it was
# given: {address: {"stdout": ..., "stderr": ..., "rc": ...}}.
FAKE_SSH = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
with open(os.environ["SSH_RECORD"], "a") as record:
    record.write(json.dumps({"argv": args, "stdin": stdin}) + "\\n")
answer = json.loads(os.environ.get("FAKE_SSH_ANSWERS", "{}")).get(args[-2] if len(args) > 1 else "", {})
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("rc", 0))
"""


@pytest.fixture
def fake(tmp_path):
    """An environment `ci` of two hosts whose ssh settings use inventory templates, as the lab's
    do, and the fake ssh first on PATH."""
    envdir = tmp_path / "envs" / "ci"
    envdir.mkdir(parents=True)
    (envdir / "inventory.yml").write_text(yaml.safe_dump({"library": {
        "hosts": {"web1": {"ansible_host": "192.0.2.1"}, "web2": {"ansible_host": "192.0.2.2", "ansible_port": 2222}},
        "vars": {
            "ansible_user": "deploy",
            "ansible_ssh_private_key_file": "{{ inventory_dir }}/id_test",
            "ansible_ssh_common_args": "-o UserKnownHostsFile={{ inventory_dir }}/known_hosts -o StrictHostKeyChecking=yes",
        },
    }}), encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH, encoding="utf-8")
    (bin_dir / "ssh").chmod(0o755)
    record = tmp_path / "ssh.jsonl"
    record.touch()

    class Fake:
        """The environment's folder, the scripts' environment, and the calls ssh recorded."""

        def __init__(self):
            self.env_dir = envdir
            self.env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "DEPLOY_"))},
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "DEPLOY_ENVIRONMENTS": str(tmp_path / "envs"),
                "SSH_RECORD": str(record),
                "TMPDIR": str(tmp_path),
            }

        @staticmethod
        def calls():
            return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]

    return Fake()


def run(tool, *args, env=None, stdin="", timeout=120):
    return subprocess.run([str(TOOLS / tool), *args], capture_output=True, text=True, input=stdin,
                          env=env, timeout=timeout, check=False)


def one_line_error(result, start):
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(start), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


# ---- Input checks: no host, no ansible run ---------------------------------------------------

@pytest.mark.parametrize("tool", ["status", "logs", "manage", "prune"])
@pytest.mark.parametrize("env_name", ["nowhere", "../deploy/lab", "", "lab;id"])
def test_a_bad_environment_fails_early_with_one_line(tool, env_name):
    result = run(tool, env_name, *(["lab-1", "manage.py check"] if tool == "manage" else []))
    one_line_error(result, f"{tool}: ENV '{env_name}' has no ")
    assert "(environments: lab production staging)" in result.stderr


@pytest.mark.parametrize("service", ["nginx", "web;id", "WEB", "web db"])
def test_an_unknown_service_fails_early(fake, service):
    result = run("logs", "ci", service, env=fake.env)
    one_line_error(result, f"logs: SERVICE '{service}' is not a service of compose.yaml (services: proxy web cache db migrate)")
    assert fake.calls() == []


def test_the_services_logs_accepts_are_compose_yamls():
    compose = yaml.safe_load((ROOT / "compose" / "compose.yaml").read_text(encoding="utf-8"))
    listed = next(line for line in (TOOLS / "logs").read_text(encoding="utf-8").splitlines()
                  if line.startswith("services=("))
    assert sorted(listed.split("(")[1].split(")")[0].split()) == sorted(compose["services"])


@pytest.mark.parametrize("since", ["10", "10d", "yesterday", "2026-11-30", "2026-11-30T10:00:00", "10m; id", "$(id)", "-1h"])
def test_a_since_that_is_no_duration_or_utc_time_fails_early(fake, since):
    result = run("logs", "ci", "", since, env=fake.env)
    one_line_error(result, f"logs: SINCE '{since}' is neither a duration like 10m")
    assert fake.calls() == []


def test_a_grep_that_is_no_regular_expression_fails_early(fake):
    one_line_error(run("logs", "ci", "", "", "(unclosed", env=fake.env),
                   "logs: GREP '(unclosed' is not an extended regular expression")


def test_follow_is_one_or_zero(fake):
    one_line_error(run("logs", "ci", "", "", "", "yes", env=fake.env), "logs: FOLLOW 'yes' is not 1")


@pytest.mark.parametrize(("cmd", "start"), [
    ("", "manage: CMD '' must start with manage.py"),
    ("migrate", "manage: CMD 'migrate' must start with manage.py"),
    ("python manage.py check", "manage: CMD 'python manage.py check' must start with manage.py"),
    ("manage.py check; rm -rf /", "manage: CMD 'manage.py check; rm -rf /' has the shell operator ';'"),
    ("manage.py check|sh", "manage: CMD 'manage.py check|sh' has the shell operator '|'"),
    ("manage.py check && id", "manage: CMD 'manage.py check && id' has the shell operator '&&'"),
    ("manage.py dumpdata > /etc/passwd", "manage: CMD 'manage.py dumpdata > /etc/passwd' has the shell operator '>'"),
    ("manage.py shell -c $(id)", "manage: CMD 'manage.py shell -c $(id)' has the shell operator '('"),
    ("manage.py shell -c 'unclosed", "manage: CMD 'manage.py shell -c 'unclosed' cannot be split into words"),
])
def test_a_cmd_that_is_not_one_manage_py_command_fails_early(fake, cmd, start):
    one_line_error(run("manage", "ci", "web1", cmd, env=fake.env), start)
    assert fake.calls() == []


@pytest.mark.parametrize("host", ["", "web1;id", "-oProxyCommand=id", "web 1"])
def test_a_host_that_is_no_host_name_fails_early(fake, host):
    one_line_error(run("manage", "ci", host, "manage.py check", env=fake.env), f"manage: HOST '{host}' is not a host name")
    assert fake.calls() == []


def test_a_host_not_in_the_inventory_fails_naming_the_hosts_before_any_connection(fake):
    result = run("manage", "ci", "web3", "manage.py check", env=fake.env)
    one_line_error(result, "manage: HOST 'web3' is not a host of ci (hosts: web1 web2)")
    assert fake.calls() == []  # ansible read the inventory without contacting a host


def test_make_passes_the_inputs_as_data(tmp_path):
    """Values with make and shell syntax reach the scripts as text, are refused, and run nothing."""
    marker = tmp_path / "ran"
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "exec", "ENV=lab", f"HOST=lab-1;touch {marker}",
         f"CMD=manage.py $(shell touch {marker}) `touch {marker}`"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0
    assert f"manage: HOST 'lab-1;touch {marker}' is not a host name" in result.stderr, result.stderr
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "logs", "ENV=lab", f"SINCE=1h;touch {marker}"],
        capture_output=True, text=True, timeout=300, check=False)
    assert f"logs: SINCE '1h;touch {marker}' is neither" in result.stderr, result.stderr
    assert not marker.exists()


# ---- With the fake ssh -----------------------------------------------------------------------

def remote_words(call):
    """The remote command ssh was given, as the host's shell splits it."""
    return shlex.split(call["argv"][-1])


def test_manage_runs_one_quoted_command_in_a_one_off_web_container_with_stdin(fake):
    cmd = """manage.py shell -c "print('a b'); import os" --verbosity '2' $HOME `id`"""
    result = run("manage", "ci", "web2", cmd, env=fake.env, stdin="print('from stdin')\n")
    assert result.returncode == 0, result.stderr
    (call,) = fake.calls()
    argv = call["argv"]
    # Reached as ansible reaches web2: its port, user, key and common args, templates rendered.
    assert argv[0:2] != ["-t"] and "-t" not in argv  # stdin is no terminal: no terminal asked for
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-l") + 1] == "deploy"
    assert argv[argv.index("-i") + 1] == str(fake.env_dir / "id_test")
    assert f"UserKnownHostsFile={fake.env_dir}/known_hosts" in argv
    assert argv[-2] == "192.0.2.2"
    # The host's shell gets sudo sh -c SCRIPT with the folder and every word as arguments.
    words = remote_words(call)
    assert words[:5] == ["sudo", "sh", "-c", 'cd "$1" && shift && exec docker compose "$@"', "library-compose"]
    assert words[5:] == ["/opt/library", "-p", "library", "--ansi", "never", "run", "--rm", "--no-deps", "-T", "web", "python",
                         "manage.py", "shell", "-c", "print('a b'); import os", "--verbosity", "2", "$HOME", "`id`"]
    assert call["stdin"] == "print('from stdin')\n"
    assert "manage: on web2: " in result.stderr


def test_manage_exits_with_the_commands_status(fake):
    env = {**fake.env, "FAKE_SSH_ANSWERS": json.dumps({"192.0.2.1": {"stderr": "CommandError: no\n", "rc": 3}})}
    result = run("manage", "ci", "web1", "manage.py nosuchcommand", env=env)
    assert result.returncode == 3
    assert "CommandError: no" in result.stderr


def test_the_ci_secrets_reach_the_ssh_that_manage_runs_and_are_gone_afterwards(fake, tmp_path):
    env = {**fake.env, "DEPLOY_SSH_KEY": "fake-key-for-tests", "DEPLOY_KNOWN_HOSTS": "192.0.2.1 ssh-ed25519 AAAAfake"}
    result = run("manage", "ci", "web1", "manage.py check", env=env)
    assert result.returncode == 0, result.stderr
    (call,) = fake.calls()
    argv = call["argv"]
    # First: ssh keeps the first value of an option, so the secrets win over the inventory's.
    assert argv.index("StrictHostKeyChecking=yes") < argv.index("-l")
    key = next(a for a in argv if a.startswith("IdentityFile="))
    assert Path(key.split("=", 1)[1]).parent.parent == tmp_path  # TMPDIR/deploy.XXXXXX/ssh_key
    assert not Path(key.split("=", 1)[1]).exists()  # removed when manage ended
    assert "fake-key-for-tests" not in result.stdout + result.stderr


def log_line(service, time, text):
    """A line as compose 2.26 writes it: it begins with a code that clears the terminal's line."""
    return f"\x1b[2K{service}  | {time} {text}\n"


def test_logs_merges_every_hosts_lines_in_time_order_prefixed_with_the_host(fake):
    answers = {
        "192.0.2.1": {"stdout": log_line("web-1", "2026-11-30T10:00:02.000000001Z", "third")
                      + log_line("proxy-1", "2026-11-30T10:00:00.500000000Z", "first")},
        "192.0.2.2": {"stdout": log_line("web-1", "2026-11-30T10:00:01.000000000Z", "\x1b[31msecond\x1b[0m")},
    }
    result = run("logs", "ci", "web", "1h30m", env={**fake.env, "FAKE_SSH_ANSWERS": json.dumps(answers)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "web1 | proxy-1  | 2026-11-30T10:00:00.500000000Z first",
        "web2 | web-1  | 2026-11-30T10:00:01.000000000Z second",
        "web1 | web-1  | 2026-11-30T10:00:02.000000001Z third",
    ]
    calls = fake.calls()
    assert sorted(call["argv"][-2] for call in calls) == ["192.0.2.1", "192.0.2.2"]  # ansible itself ran no ssh
    for call in calls:
        assert "-tt" not in call["argv"]
        assert remote_words(call)[5:] == ["/opt/library", "-p", "library", "--ansi", "never", "logs", "--timestamps", "--since", "1h30m", "web"]


def test_logs_follows_greps_and_names_a_host_that_failed(fake):
    answers = {
        "192.0.2.1": {"stdout": log_line("web-1", "2026-11-30T10:00:00Z", '"GET /api/v1/books/" 200')
                      + log_line("web-1", "2026-11-30T10:00:01Z", '"GET /healthz" 200')},
        "192.0.2.2": {"stderr": "ssh: connect to host 192.0.2.2 port 2222: Connection refused\n", "rc": 255},
    }
    result = run("logs", "ci", "", "2026-11-30T09:00:00Z", "books", "1",
                 env={**fake.env, "FAKE_SSH_ANSWERS": json.dumps(answers)})
    assert result.returncode == 1
    assert result.stdout == 'web1 | web-1  | 2026-11-30T10:00:00Z "GET /api/v1/books/" 200\n'
    assert "web2 | ssh: connect to host 192.0.2.2 port 2222: Connection refused" in result.stderr
    assert result.stderr.rstrip().endswith("logs: no logs from web2 (see above)")
    for call in fake.calls():
        assert remote_words(call)[10:] == ["logs", "--timestamps", "--since", "2026-11-30T09:00:00Z", "--follow"]
        # A terminal on the host, so that compose there is hung up on when following stops.
        assert call["argv"][0] == "-tt"


def test_remote_refuses_what_a_shell_would_run():
    """The checks without a script around them: a word with an operator inside quotes is data."""
    sys.path.insert(0, str(TOOLS / "lib"))
    import remote

    assert remote.manage_words("manage.py shell -c 'a; b | c'") == ["manage.py", "shell", "-c", "a; b | c"]
    for bad in ("manage.py check &", "manage.py check <in", "manage.py (check)"):
        with pytest.raises(remote.BadInput):
            remote.manage_words(bad)
