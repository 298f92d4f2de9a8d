"""A host that cannot be logged in to stops plan and deploy before anything changes, named with
its SSH error in one line (ansible/roles/base/tasks/login.yml). The environment is one that
`make new-env` writes, pointed at a loopback port where nothing listens; the real stacks command
and ansible-playbook run in an environment built here."""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from stacks import new_env

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("login")
    home = tmp / "home"
    (home / ".ssh").mkdir(parents=True)
    for key in (home / ".ssh" / "id_ed25519", tmp / "host_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, capture_output=True,
                       timeout=30)
    host_key = "127.0.0.1 " + " ".join((tmp / "host_key.pub").read_text().split()[:2])
    environ = {"PATH": os.environ["PATH"], "HOME": str(home), "USER": "ada", "LANG": "C.UTF-8",
               "DEPLOY_ENVIRONMENTS": str(tmp / "envs"), "ANSIBLE_SSH_RETRIES": "0"}
    args = argparse.Namespace(name="far", host="127.0.0.1", domain="", email="", repository="registry.example.com/o/library",
                              login="", key="")
    (tmp / "envs").mkdir()
    assert new_env.main(args, environ, scan=lambda host: [host_key], out=io.StringIO()) == 0
    inventory = tmp / "envs" / "far" / "inventory.yml"
    hosts = yaml.safe_load(inventory.read_text())
    hosts["library"]["hosts"]["far-1"]["ansible_port"] = closed_port()
    inventory.write_text(yaml.safe_dump(hosts))
    return environ


VERBS = ("plan", "deploy")


@pytest.fixture(scope="module")
def runs(environment):
    """Each verb run once, both at the same time (each is mostly ansible's start-up)."""
    def run(verb):
        return subprocess.run([str(ROOT / ".venv" / "bin" / "stacks"), verb, "far", "--revision", SHA],
                              capture_output=True, text=True, env=environment, timeout=300, check=False)
    with ThreadPoolExecutor(len(VERBS)) as pool:
        return dict(zip(VERBS, pool.map(run, VERBS)))


@pytest.mark.parametrize("verb", VERBS)
def test_a_host_that_cannot_be_logged_in_to_is_named_with_its_ssh_error_in_one_line(runs, verb):
    result = runs[verb]
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if "cannot log in over SSH" in line]
    assert lines, result.stdout[-3000:]
    assert "far-1: cannot log in over SSH as deploy or root:" in lines[0]
    assert "Connection refused" in lines[0] and "ping module" not in lines[0]
    assert "PLAY [Take the deploy lock]" not in result.stdout  # stopped before anything
