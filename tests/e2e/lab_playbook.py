"""ansible-playbook against the lab, its results read from the JSON callback
(tests/ansible_results.py): used by the e2e tests (conftest.py) and by the deploy benchmark
(deploy/lab/bench-deploy)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from ansible_results import JSON_CALLBACK, read_run

PLAYBOOK_TIMEOUT = 1200  # seconds; a cold site.yml on two hosts takes a few minutes


def playbook(name, *extra, revision=None, deployer="e2e@lab", env=None):
    """ansible-playbook NAME against the lab, as `deploy/lab/lab up` runs site.yml; its
    results come from the JSON callback."""
    return read_run(subprocess.run(playbook_command(name, *extra, revision=revision), cwd=ROOT / "ansible",
                                   env=playbook_env(deployer, env), capture_output=True, text=True,
                                   timeout=PLAYBOOK_TIMEOUT, check=False))


def playbook_command(name, *extra, revision=None):
    revisions = ("-e", f"library_revision={revision}") if revision else ()
    command = [ROOT / ".venv/bin/ansible-playbook", "-i", "../deploy/lab/inventory.yml", name, *revisions,
               "-e", "@../deploy/lab/.state/secrets.yml", *extra]
    return [str(c) for c in command]


def playbook_env(deployer, env=None):
    return {**(env or os.environ), "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}",
            **JSON_CALLBACK, "LIBRARY_DEPLOYER": deployer}
