"""Testinfra against the lab hosts (deploy/lab/lab up), over real SSH with the lab key.

Hosts come from the lab inventory; SSH settings from the ssh_config the lab tool writes
(key, known_hosts, user `debian`). Run: .venv/bin/pytest tests/infra
"""

import json
from pathlib import Path

import pytest
import requests
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "deploy" / "lab"
SSH_CONFIG = LAB / ".state" / "ssh_config"
HTTP_TIMEOUT = 10


def lab_hosts():
    """{inventory name: address} of group `library` in the lab inventory."""
    inventory = yaml.safe_load((LAB / "inventory.yml").read_text())
    return {name: v["ansible_host"] for name, v in inventory["library"]["hosts"].items()}


HOSTS = lab_hosts()


@pytest.fixture(scope="session", autouse=True)
def lab_is_up():
    # A missing lab is a failure, not a skip: these tests exist to check it.
    assert SSH_CONFIG.exists(), f"{SSH_CONFIG} missing: run deploy/lab/lab up first"


@pytest.fixture(scope="module", params=sorted(HOSTS))
def name(request):
    return request.param


@pytest.fixture(scope="module")
def host(name):
    return testinfra.get_host(f"ssh://{name}", ssh_config=str(SSH_CONFIG))


@pytest.fixture(scope="module")
def address(name):
    return HOSTS[name]


@pytest.fixture(scope="module")
def base_url(address):
    return f"http://{address}"


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield lambda url: session.get(url, timeout=HTTP_TIMEOUT, allow_redirects=False)


COMPOSE_PROJECT = "library"


def compose_containers(host):
    """{service: docker inspect} of the stack's running containers on HOST."""
    ids = host.check_output(
        f"sudo docker ps -q --filter label=com.docker.compose.project={COMPOSE_PROJECT}"
    ).split()
    assert ids, "no container of the library stack"
    inspected = json.loads(host.check_output("sudo docker inspect " + " ".join(ids)))
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in inspected}
