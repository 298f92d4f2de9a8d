"""`stacks logs` and `stacks exec` as processes, with the real ansible-playbook reading the hosts
(connections.yml contacts none) and a fake `ssh` first on PATH that records its argv, stdin and
whether the CI secrets are in its environment, and answers as FAKE_SSH_ANSWERS says for the
address it was given. So the quoting of the remote command, stdin, exit statuses and the merged,
prefixed log lines are seen exactly, and no host is contacted."""

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
SECRETS = ("DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", "ANSIBLE_VAULT_PASSWORD")
FAKE_SSH = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
secrets = [name for name in {SECRETS!r} if name in os.environ]
with open(os.environ["SSH_RECORD"], "a") as record:
    record.write(json.dumps({{"argv": args, "stdin": stdin, "secrets": secrets}}) + "\\n")
answer = json.loads(os.environ.get("FAKE_SSH_ANSWERS", "{{}}")).get(args[-2], {{}})
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.exit(answer.get("rc", 0))
"""


@pytest.fixture
def fake(tmp_path):
    """Environment `ci` of two hosts whose ssh settings are inventory templates, as the lab's are;
    fake.run(verb, *options, answers=..., **environ) runs the stacks command against it."""
    envdir = tmp_path / "envs" / "ci"
    envdir.mkdir(parents=True)
    (envdir / "inventory.yml").write_text(yaml.safe_dump({"library": {
        "hosts": {"web1": {"ansible_host": "192.0.2.1"}, "web2": {"ansible_host": "192.0.2.2", "ansible_port": 2222}},
        "vars": {"ansible_user": "deploy", "ansible_ssh_private_key_file": "{{ inventory_dir }}/id_test",
                 "ansible_ssh_common_args": "-o UserKnownHostsFile={{ inventory_dir }}/known_hosts"},
    }}), encoding="utf-8")
    bin_dir, home, temp = tmp_path / "bin", tmp_path / "home", tmp_path / "tmp"
    for folder in (bin_dir, home, temp):
        folder.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH, encoding="utf-8")
    (bin_dir / "ssh").chmod(0o755)
    record = tmp_path / "ssh.jsonl"

    class Fake:
        env_dir, tmp = envdir, temp

        @staticmethod
        def run(verb, *options, answers=None, stdin="", **environ):
            env = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home), "LANG": "C.UTF-8",
                   "DEPLOY_ENVIRONMENTS": str(tmp_path / "envs"), "TMPDIR": str(temp), "SSH_RECORD": str(record),
                   "FAKE_SSH_ANSWERS": json.dumps(answers or {}), **environ}
            return subprocess.run([str(ROOT / ".venv" / "bin" / "stacks"), verb, *options, "--", "ci"], env=env,
                                  input=stdin, capture_output=True, text=True, timeout=300, check=False)

        @staticmethod
        def calls():
            return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()] if record.exists() else []

    return Fake()


def remote_words(call):
    """The remote command ssh was given, as the host's shell splits it."""
    return shlex.split(call["argv"][-1])


PREFIX = ["sudo", "sh", "-c", 'cd "$1" && shift && exec docker compose "$@"', "library-compose",
          "/opt/library", "-p", "library", "--ansi", "never"]


def test_exec_runs_one_quoted_command_in_a_one_off_web_container_with_stdin(fake):
    cmd = """manage.py shell -c "print('a b'); import os" --verbosity '2' $HOME `id`"""
    result = fake.run("exec", "--host=web2", f"--cmd={cmd}", stdin="print('from stdin')\n")
    assert result.returncode == 0, result.stderr
    (call,) = fake.calls()
    argv = call["argv"]
    assert "-t" not in argv and "-tt" not in argv  # stdin is no terminal: none asked for
    # Reached as ansible reaches web2: its port, user, key and common args, templates rendered.
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-l") + 1] == "deploy"
    assert argv[argv.index("-i") + 1] == str(fake.env_dir / "id_test")
    assert f"UserKnownHostsFile={fake.env_dir}/known_hosts" in argv
    assert argv[-2] == "192.0.2.2"
    assert remote_words(call) == [*PREFIX, "run", "--rm", "--no-deps", "-T", "web", "python", "manage.py", "shell",
                                  "-c", "print('a b'); import os", "--verbosity", "2", "$HOME", "`id`"]
    assert call["stdin"] == "print('from stdin')\n"
    assert result.stderr == f"exec: on web2: {cmd}\n"


def test_exec_exits_with_the_commands_status(fake):
    result = fake.run("exec", "--host=web1", "--cmd=manage.py nosuchcommand",
                      answers={"192.0.2.1": {"stderr": "CommandError: no\n", "rc": 3}})
    assert result.returncode == 3
    assert "CommandError: no" in result.stderr


def test_a_host_not_in_the_inventory_is_refused_naming_the_hosts_before_any_connection(fake):
    result = fake.run("exec", "--host=web3", "--cmd=manage.py check")
    assert (result.returncode, result.stderr) == (2, "exec: HOST 'web3' is not a host of ci (hosts: web1 web2)\n")
    assert fake.calls() == []


def test_the_ci_secrets_reach_the_ssh_of_exec_as_files_that_are_gone_afterwards(fake):
    result = fake.run("exec", "--host=web1", "--cmd=manage.py check", DEPLOY_SSH_KEY="fake-key-for-tests",
                      DEPLOY_KNOWN_HOSTS="192.0.2.1 ssh-ed25519 AAAAfake")
    assert result.returncode == 0, result.stderr
    (call,) = fake.calls()
    argv = call["argv"]
    # First: ssh keeps the first value of an option, so the secrets win over the inventory's.
    assert argv.index("StrictHostKeyChecking=yes") < argv.index("-l")
    key = Path(next(a for a in argv if a.startswith("IdentityFile=")).split("=", 1)[1])
    assert key.parent.parent == fake.tmp and not key.exists()
    assert list(fake.tmp.iterdir()) == []
    assert "fake-key-for-tests" not in result.stdout + result.stderr


@pytest.mark.parametrize("verb", [["exec", "--host=web1", "--cmd=manage.py check"], ["logs"]], ids=["exec", "logs"])
def test_the_ci_secrets_are_not_in_the_environment_of_ssh(fake, verb):
    result = fake.run(*verb, **dict.fromkeys(SECRETS, "fake-secret-for-tests"))
    assert result.returncode == 0, result.stderr
    calls = fake.calls()
    assert calls and [call["secrets"] for call in calls] == [[]] * len(calls)


def log_line(service, time, text):
    """A line as compose 2.26 writes it: it begins with a code that clears the terminal's line."""
    return f"\x1b[2K{service}  | {time} {text}\n"


def test_logs_merges_every_hosts_lines_in_time_order_prefixed_with_the_host(fake):
    answers = {
        "192.0.2.1": {"stdout": log_line("web-1", "2026-11-30T10:00:02.000000001Z", "third")
                      + log_line("proxy-1", "2026-11-30T10:00:00.500000000Z", "first")},
        "192.0.2.2": {"stdout": log_line("web-1", "2026-11-30T10:00:01.000000000Z", "\x1b[31msecond\x1b[0m")},
    }
    result = fake.run("logs", "--service=web", "--since=1h30m", answers=answers)
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
        assert remote_words(call) == [*PREFIX, "logs", "--timestamps", "--since", "1h30m", "web"]


def test_logs_follows_with_a_terminal_greps_and_names_a_host_that_failed(fake):
    answers = {
        "192.0.2.1": {"stdout": log_line("web-1", "2026-11-30T10:00:00Z", '"GET /api/v1/books/" 200')
                      + log_line("web-1", "2026-11-30T10:00:01Z", '"GET /healthz" 200')},
        "192.0.2.2": {"stderr": "ssh: connect to host 192.0.2.2 port 2222: Connection refused\n", "rc": 255},
    }
    result = fake.run("logs", "--since=2026-11-30T09:00:00Z", "--grep=books", "--follow=1", answers=answers)
    assert result.returncode == 1
    assert result.stdout == 'web1 | web-1  | 2026-11-30T10:00:00Z "GET /api/v1/books/" 200\n'
    assert "web2 | ssh: connect to host 192.0.2.2 port 2222: Connection refused\n" in result.stderr
    assert result.stderr.endswith("logs: no logs from web2 (see above)\n")
    for call in fake.calls():
        # A terminal on the host, so that compose there is hung up on when following stops.
        assert call["argv"][0] == "-tt"
        assert remote_words(call)[len(PREFIX):] == ["logs", "--timestamps", "--since", "2026-11-30T09:00:00Z", "--follow"]
