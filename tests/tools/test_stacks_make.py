"""The Makefile's operation targets hand their variables to `stacks` as data: values holding make
(`$(shell ...)`) and shell (`;`, backquotes) syntax reach the command as text, are refused in one
line, and run nothing (the marker file never appears). make runs with `-o venv` (no uv sync) in
an environment built here; every value is refused before any host or ansible run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make(tmp_path: Path, *variables: str) -> subprocess.CompletedProcess:
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "TMPDIR": str(tmp_path)}
    return subprocess.run(["make", "--no-print-directory", "-o", "venv", "-C", str(ROOT), *variables], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def stacks_lines(result: subprocess.CompletedProcess) -> list[str]:
    """What the stacks command printed on stderr (make's own "make: ***" line left out)."""
    return [line for line in result.stderr.splitlines() if not line.startswith("make")]


CASES = [
    (["exec", "ENV=lab", "HOST=lab-1;touch {marker}", "CMD=manage.py $(shell touch {marker}) `touch {marker}`"],
     "exec: HOST 'lab-1;touch {marker}' is not a host name"),
    (["exec", "ENV=lab", "HOST=lab-1", "CMD=manage.py $(shell touch {marker}) `touch {marker}`"],
     "exec: CMD 'manage.py $(shell touch {marker}) `touch {marker}`' has the shell operator '('"),
    (["logs", "ENV=lab", "SINCE=1h;touch {marker}"], "logs: SINCE '1h;touch {marker}' is neither a duration like 10m"),
    (["deploy", "ENV=lab", "REVISION=$(shell touch {marker})"], "deploy: REVISION '$(shell touch {marker})' is not a"),
    (["status", "ENV=lab;touch {marker}"], "status: ENV 'lab;touch {marker}' is not an environment name"),
    (["restore", "ENV=lab", "AT=2026-11-23 10:15:00`touch {marker}`"], "restore: AT '2026-11-23 10:15:00`touch"),
    (["new-env", "NAME=x;touch {marker}", "HOST=203.0.113.10"], "new-env: NAME 'x;touch {marker}' is not an environment"),
]


@pytest.mark.parametrize(("variables", "start"), CASES,
                         ids=["exec-HOST", "exec-CMD", "logs-SINCE", "deploy-REVISION", "status-ENV", "restore-AT",
                              "new-env-NAME"])
def test_make_passes_hostile_values_as_data_that_is_refused_in_one_line(tmp_path, variables, start):
    marker = tmp_path / "MARKER"
    result = make(tmp_path, *(v.format(marker=marker) for v in variables))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = stacks_lines(result)
    assert line.startswith(start.format(marker=marker)), result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("target", ["deploy", "rollback", "unlock", "plan", "status", "prune", "backup", "restore",
                                    "maintenance", "logs", "exec"])
def test_every_operation_target_requires_env(tmp_path, target):
    assert stacks_lines(make(tmp_path, target)) == [
        f"{target}: ENV is required: the name of a folder of deploy/ (environments: lab production staging)"]
