"""`make run` (app/run-dev) needs only what the app needs: uv and a Python. It runs no machine
setup (root, apt, Docker), and when uv or a suitable Python is missing it says so in one line
before touching anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_DEV = ROOT / "app" / "run-dev"
# What the script needs besides uv; a PATH of only these shows what happens without uv.
BASICS = ("bash", "dirname", "sed")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return {**env, **extra}


def bin_dir(tmp_path: Path, uv: str | None = None) -> Path:
    """A PATH directory holding the basics and, if given, a fake uv with that script body."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in BASICS:
        found = subprocess.run(["bash", "-c", f"command -v {name}"], capture_output=True, text=True, check=True)
        (directory / name).symlink_to(found.stdout.strip())
    if uv is not None:
        (directory / "uv").write_text(f"#!/bin/bash\n{uv}\n", encoding="utf-8")
        (directory / "uv").chmod(0o755)
    return directory


def run_dev(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUN_DEV)], capture_output=True, text=True, timeout=60, check=False,
                          env=clean_env(PATH=str(path)))


def test_make_run_runs_no_machine_setup():
    result = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False, env=clean_env())
    assert result.returncode == 0, result.stderr
    commands = result.stdout
    assert "app/run-dev" in commands
    for needs_root in ("setup-machine", "docker-up", "apt", "sudo"):
        assert needs_root not in commands, f"make run calls {needs_root}:\n{commands}"


def test_without_uv_run_dev_says_how_to_get_it_in_one_line(tmp_path):
    result = run_dev(bin_dir(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("run-dev: uv is not on PATH; install it without root: ")
    assert "https://docs.astral.sh/uv/" in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_without_a_suitable_python_run_dev_says_so_in_one_line(tmp_path):
    # A uv that finds no interpreter, and records any other command it is given.
    calls = tmp_path / "calls"
    uv = (f'if [ "$1 $2" = "python find" ]; then echo "error: No interpreter found" >&2; '
          f'echo "hint: more lines" >&2; exit 2; fi\necho "$@" >> {calls}; exit 0')
    result = run_dev(bin_dir(tmp_path, uv))
    assert result.returncode == 1
    assert result.stderr.startswith('run-dev: no Python >=3.11 found, and uv may not download one'), result.stderr
    assert "UV_PYTHON_DOWNLOADS=never" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not calls.exists(), "run-dev went on without a Python"
