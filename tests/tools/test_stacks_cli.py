"""tools/stacks/cli.py: every verb that touches hosts refuses a missing or bad ENV, and each bad
input of a verb, with exit status 2 and one line "VERB: NAME 'value' why", before anything is
contacted. cli.main is called in this process with an explicit environ; subprocess.Popen is
replaced by a guard that fails the test if anything (ansible, ssh) is started, and the temporary
folder the secrets would go to must stay empty."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from stacks import cli

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"
HOST_VERBS = ["deploy", "rollback", "unlock", "plan", "status", "prune", "backup", "restore", "maintenance", "logs",
              "exec"]
ENVIRONMENTS = "(environments: lab production staging)"


@pytest.fixture
def started(monkeypatch):
    """The processes the command tried to start (none may start: the guard refuses them all)."""
    calls = []

    def guard(argv, *args, **kwargs):
        calls.append(argv)
        raise AssertionError(f"a process was started: {argv}")

    monkeypatch.setattr(subprocess, "Popen", guard)
    return calls


@pytest.fixture
def environ(tmp_path):
    """A folder of environments holding `ci` (two hosts), and an empty TMPDIR for the secrets."""
    (tmp_path / "envs" / "ci").mkdir(parents=True)
    (tmp_path / "envs" / "ci" / "inventory.yml").write_text(yaml.safe_dump(
        {"library": {"hosts": {"web1": {"ansible_host": "192.0.2.1"}, "web2": {"ansible_host": "192.0.2.2"}}}}),
        encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    (tmp_path / "home").mkdir()
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
            "DEPLOY_ENVIRONMENTS": str(tmp_path / "envs"), "TMPDIR": str(tmp_path / "tmp")}


def refused(capsys, argv, environ) -> str:
    """The one line CLI.MAIN printed when it refused ARGV with exit status 2."""
    status = cli.main(argv, environ)
    out, err = capsys.readouterr()
    assert (status, out) == (2, ""), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize("verb", HOST_VERBS)
def test_every_host_verb_requires_env_and_names_the_environments(capsys, started, tmp_path, verb):
    line = refused(capsys, [verb], {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path)})
    assert line == f"{verb}: ENV is required: the name of a folder of deploy/ {ENVIRONMENTS}"
    assert started == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("env_name", "why"), [
    ("nowhere", "has no deploy/nowhere/inventory.yml"),
    ("../deploy/lab", "is not an environment name"),
    ("lab;id", "is not an environment name"),
    ("Lab", "is not an environment name"),
])
@pytest.mark.parametrize("verb", ["deploy", "status", "logs", "exec"])
def test_a_bad_env_is_refused_naming_the_environments(capsys, started, tmp_path, verb, env_name, why):
    line = refused(capsys, [verb, "--", env_name], {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert line == f"{verb}: ENV '{env_name}' {why} {ENVIRONMENTS}"
    assert started == []


def test_deploy_environments_names_another_folder_of_environments(capsys, started, environ):
    line = refused(capsys, ["status", "--", "lab"], environ)
    assert line == "status: ENV 'lab' has no envs/lab/inventory.yml (environments: ci)"


def services() -> str:
    return " ".join(yaml.safe_load((ROOT / "compose" / "compose.yaml").read_text(encoding="utf-8"))["services"])


BAD_INPUTS = [
    (["deploy"], "deploy: REVISION '' is not a full git sha (images are tagged with it)"),
    (["deploy", f"--revision={SHA[:12]}"], f"deploy: REVISION '{SHA[:12]}' is not a full git sha"),
    (["deploy", f"--revision={SHA.upper()}"], f"deploy: REVISION '{SHA.upper()}' is not a full git sha"),
    (["rollback", "--revision=main"], "rollback: REVISION 'main' is not a full git sha"),
    (["plan", "--revision=HEAD"], "plan: REVISION 'HEAD' is not a full git sha"),
    (["backup", "--type=weekly"], "backup: TYPE 'weekly' is not incr, diff or full"),
    (["restore", "--at=yesterday"], "restore: AT 'yesterday' is not a UTC time written \"YYYY-MM-DD HH:MM:SS\""),
    (["restore", "--at=2026-11-23 10:15:00; rm -rf /"], "restore: AT '2026-11-23 10:15:00; rm -rf /' is not a UTC"),
    (["restore", '--backup=latest"'], "restore: BACKUP 'latest\"' is not a backup label (such as 20261123-101500F"),
    (["restore", "--at=2026-11-23 10:15:00", "--backup=20261123-101500F"],
     "restore: AT '2026-11-23 10:15:00' and BACKUP '20261123-101500F' were both given: give one"),
    (["restore", "--confirm=y"], "restore: CONFIRM 'y' is not yes"),
    (["restore", "--host=lab-1 lab-2"], "restore: HOST 'lab-1 lab-2' is not a host name"),
    (["maintenance"], "maintenance: STATE '' is not on or off"),
    (["maintenance", "--state=ON"], "maintenance: STATE 'ON' is not on or off"),
    (["logs", "--since=1h;touch x"], "logs: SINCE '1h;touch x' is neither a duration like 10m, 1h, 90s nor a UTC"),
    (["logs", "--since=2026-11-30"], "logs: SINCE '2026-11-30' is neither a duration"),
    (["logs", "--grep=(unclosed"], "logs: GREP '(unclosed' is not a regular expression ("),
    (["logs", "--follow=yes"], "logs: FOLLOW 'yes' is not 1 (follow) or 0"),
    (["exec", "--cmd=manage.py check"], "exec: HOST '' is not a host name"),
    (["exec", "--host=web1;id", "--cmd=manage.py check"], "exec: HOST 'web1;id' is not a host name"),
    (["exec", "--host=-oProxyCommand=id", "--cmd=manage.py check"], "exec: HOST '-oProxyCommand=id' is not a host"),
    (["exec", "--host=web1"], "exec: CMD '' must start with manage.py"),
    (["exec", "--host=web1", "--cmd=python manage.py check"], "exec: CMD 'python manage.py check' must start with"),
    (["exec", "--host=web1", "--cmd=manage.py check; rm -rf /"],
     "exec: CMD 'manage.py check; rm -rf /' has the shell operator ';'"),
    (["exec", "--host=web1", "--cmd=manage.py $(shell touch x) `touch x`"],
     "exec: CMD 'manage.py $(shell touch x) `touch x`' has the shell operator '('"),
]


@pytest.mark.parametrize(("argv", "start"), BAD_INPUTS, ids=[" ".join(argv) for argv, _ in BAD_INPUTS])
def test_a_bad_input_is_refused_in_one_line_before_anything_is_contacted(capsys, started, environ, argv, start):
    line = refused(capsys, [*argv, "--", "ci"], environ)
    assert line.startswith(start), line
    assert started == []
    assert list(Path(environ["TMPDIR"]).iterdir()) == []  # no secrets folder was made


def test_a_service_not_in_compose_yaml_is_refused_listing_the_services(capsys, started, environ):
    for service in ("nginx", "web;id", "WEB", "web db"):
        line = refused(capsys, ["logs", f"--service={service}", "--", "ci"], environ)
        # inputs.one_of adds the list in parentheses itself (its WHY only ends the line before it).
        assert line == f"logs: SERVICE '{service}' is not a service of compose.yaml ({services()})"
    assert started == []
