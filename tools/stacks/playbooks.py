"""Running the playbooks of ansible/ against an environment: its inventory, its extra-vars files,
this run's secrets, and the command's own variables passed as one JSON file (values are data:
a time with a space, or any quote, stays one value)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stacks.environments import ROOT, Environment, Secrets

ANSIBLE = ROOT / "ansible"


def ansible_bin(name: str) -> str:
    """A tool of the virtualenv this program runs from (uv sync put ansible there)."""
    return str(Path(sys.executable).parent / name)


def playbook_argv(playbook: str, environment: Environment, secrets: Secrets, variables: Mapping[str, Any],
                  extra: list[str] = ()) -> list[str]:
    argv = [ansible_bin("ansible-playbook"), playbook, "-i", str(environment.inventory)]
    for path in environment.extra_var_files:
        argv += ["-e", f"@{path}"]
    if variables:
        path = secrets.folder / f"vars-{playbook}.json"
        path.write_text(json.dumps(dict(variables)), encoding="utf-8")
        argv += ["-e", f"@{path}"]
    return [*argv, *secrets.playbook_args, *extra]


def run(playbook: str, environment: Environment, secrets: Secrets, variables: Mapping[str, Any] = {},
        extra: list[str] = (), environ: Mapping[str, str] = {}, **kw) -> subprocess.CompletedProcess:
    """ansible-playbook in ansible/ (its ansible.cfg), output straight to the operator unless KW
    says otherwise; ENVIRON is added to the run's environment."""
    return subprocess.run(playbook_argv(playbook, environment, secrets, variables, extra), cwd=ANSIBLE,
                          env={**secrets.child_environ, **environ}, check=False, **kw)


def connections(environment: Environment, secrets: Secrets) -> dict[str, dict[str, str]]:
    """{host: how ansible reaches it} for every host of group library, in inventory order, with the
    inventory's templates rendered (ansible/connections.yml contacts no host)."""
    result = run("connections.yml", environment, secrets, capture_output=True, text=True,
                 environ={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    if result.returncode != 0:
        raise RuntimeError(f"cannot read the hosts of {environment.inventory}:\n{result.stderr.strip()}")
    return parse_connections(json.loads(result.stdout))


def parse_connections(report: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    found = {}
    for play in report.get("plays", []):
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if isinstance(result.get("msg"), dict) and "host" in result["msg"]:
                    found[host] = result["msg"]
    return found
