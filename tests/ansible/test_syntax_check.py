"""The playbooks parse (--syntax-check) with every environment's inventory."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from ansible_helpers import ANSIBLE_DIR, BIN, DEPLOY_DIR

ENVS = ["production", "staging", "lab"]
PLAYBOOKS = ["site.yml", "rollback.yml", "status.yml", "prune.yml", "connections.yml"]


def lab_inventory_without_state(tmp_path) -> str:
    """deploy/lab/ without its generated .state/ (keys, CA, secrets: only `make lab` makes them).
    Its group_vars look those files up, but a syntax check templates no variable, so the lab
    case needs no lab: this copy proves it whether or not a lab exists on this machine."""
    copy = tmp_path / "lab"
    copy.mkdir()
    shutil.copy(DEPLOY_DIR / "lab" / "inventory.yml", copy)
    shutil.copytree(DEPLOY_DIR / "lab" / "group_vars", copy / "group_vars")
    assert not (copy / ".state").exists()
    return str(copy / "inventory.yml")


def syntax_check(inventory: str) -> subprocess.CompletedProcess:
    """Every playbook in one run: ansible-playbook parses each in turn, naming it ("playbook: X")."""
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", inventory, *PLAYBOOKS, "--syntax-check"],
        cwd=ANSIBLE_DIR, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    """The environments at once (each run is mostly ansible's start-up). production/staging: the
    real folders, encrypted vault and all (parsing needs no vault password)."""
    inventories = {env: str(DEPLOY_DIR / env / "inventory.yml") for env in ENVS if env != "lab"}
    inventories["lab"] = lab_inventory_without_state(tmp_path_factory.mktemp("syntax"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {env: pool.submit(syntax_check, inventories[env]) for env in ENVS}
        return {env: future.result() for env, future in futures.items()}


@pytest.mark.parametrize("playbook", PLAYBOOKS)
@pytest.mark.parametrize("env", ENVS)
def test_playbook_syntax_check_passes(checks, env, playbook):
    result = checks[env]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"playbook: {playbook}" in result.stdout, output
    assert "[ERROR]" not in output and "[WARNING]" not in output, output
