"""ansible-playbook against the lab, its results read from the JSON callback: used by the
e2e tests (conftest.py) and by the deploy benchmark (deploy/lab/bench-deploy)."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK_TIMEOUT = 1200  # seconds; a cold site.yml on two hosts takes a few minutes


@dataclass
class Run:
    """An ansible-playbook run, read from its JSON callback report."""

    rc: int
    report: dict
    stderr: str

    @property
    def recap(self):
        """{host: {"ok", "changed", "unreachable", "failed"}}."""
        return {host: {"ok": s["ok"], "changed": s["changed"], "unreachable": s["unreachable"],
                       "failed": s["failures"]} for host, s in self.report.get("stats", {}).items()}

    def results(self):
        """(task name, host, result) of every task on every host, in order."""
        for play in self.report.get("plays", []):
            for task in play["tasks"]:
                for host, result in task["hosts"].items():
                    yield task["task"]["name"], host, result

    def ran(self, prefix):
        """Whether a task whose name starts with PREFIX ("base : ", "library : Roll") ran
        (was not skipped) on some host."""
        return any(name.startswith(prefix) and not result.get("skipped")
                   for name, _, result in self.results())

    @property
    def text(self):
        """Every message the run printed (debug and failure messages), then its stderr."""
        messages = [str(result["msg"]) for _, _, result in self.results() if result.get("msg")]
        return "\n".join([*messages, self.stderr])


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
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "LIBRARY_DEPLOYER": deployer}


def read_run(process):
    """A finished ansible-playbook process (CompletedProcess or (rc, stdout, stderr)) as a Run."""
    rc, stdout, stderr = (process if isinstance(process, tuple)
                          else (process.returncode, process.stdout, process.stderr))
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        report = {}
        stderr = stdout + stderr
    return Run(rc, report, stderr)
