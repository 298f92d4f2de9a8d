"""tools/lint (`make lint`) on a small tree made for the test: it runs every linter, fails on
any finding, and names each linter that found something."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CLEAN_WORKFLOW = """name: Example
on: [push]
permissions:
  contents: read
jobs:
  lint:
    runs-on: ubuntu-24.04
    steps:
      - run: make lint
"""


@pytest.fixture
def tree(tmp_path):
    """A git work tree with tools/lint, the repository's linter configs and its .venv."""
    (tmp_path / "tools").mkdir()
    shutil.copy2(ROOT / "tools" / "lint", tmp_path / "tools" / "lint")
    for config in (".yamllint", ".hadolint.yaml"):
        shutil.copy2(ROOT / config, tmp_path / config)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / ".gitignore").write_text(".venv\n", encoding="utf-8")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(CLEAN_WORKFLOW, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n", encoding="utf-8")
    (tmp_path / "tests" / "Dockerfile").write_text(
        'FROM debian:trixie-slim\nUSER 10001\nCMD ["true"]\n', encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def lint(tree: Path, *linters: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(tree / "tools" / "lint"), *linters], capture_output=True, text=True, timeout=300,
                          check=False)


def test_a_clean_tree_passes_and_missing_folders_are_skipped(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint: skipping app (does not exist)" in result.stderr
    assert "lint: skipping ansible-lint (ansible/ does not exist)" in result.stderr
    assert "lint: all clean" in result.stderr


def test_every_linter_with_a_finding_is_named(tree):
    (tree / "tests" / "test_ok.py").write_text("import os\n", encoding="utf-8")  # ruff F401
    (tree / "bad.yaml").write_text("key: value   \n", encoding="utf-8")  # trailing spaces
    (tree / "tests" / "Dockerfile").write_text("FROM debian\nRUN cd /tmp\n", encoding="utf-8")  # untagged, cd
    (tree / ".github" / "workflows" / "ci.yml").write_text(
        CLEAN_WORKFLOW.replace("ubuntu-24.04", "ubuntu-linux"), encoding="utf-8")
    # An action by a moving tag, which zizmor's unpinned-uses finds.
    (tree / ".github" / "workflows" / "other.yml").write_text(
        CLEAN_WORKFLOW.replace("      - run: make lint", "      - uses: actions/checkout@v5\n        with:\n"
                               "          persist-credentials: false"), encoding="utf-8")
    script = tree / "tools" / "hello"
    script.write_text('#!/usr/bin/env bash\necho $1\n', encoding="utf-8")  # SC2086
    script.chmod(0o755)
    result = lint(tree)
    assert result.returncode == 1
    assert "lint: FAILED: ruff yamllint hadolint actionlint zizmor shellcheck" in result.stderr
    assert "F401" in result.stdout
    assert "DL3006" in result.stdout
    assert 'label "ubuntu-linux" is unknown' in result.stdout
    assert "SC2086" in result.stdout
    assert "unpinned-uses" in result.stdout + result.stderr


def test_named_linters_run_alone(tree):
    (tree / "tests" / "test_ok.py").write_text("import os\n", encoding="utf-8")  # ruff F401
    (tree / "bad.yaml").write_text("key: value   \n", encoding="utf-8")  # trailing spaces
    result = lint(tree, "yamllint", "hadolint")
    assert result.returncode == 1
    assert "lint: FAILED: yamllint\n" in result.stderr
    assert "lint: hadolint\n" in result.stderr
    assert "lint: ruff" not in result.stderr and "F401" not in result.stdout

    clean = lint(tree, "hadolint")
    assert clean.returncode == 0, clean.stderr
    assert clean.stderr.endswith("lint: all clean (hadolint)\n")


def test_an_unknown_linter_name_is_refused_in_one_line(tree):
    result = lint(tree, "pylint")
    assert result.returncode == 2
    assert result.stderr == "lint: no linter named 'pylint' (known: ruff yamllint ansible-lint hadolint actionlint zizmor shellcheck)\n"


def test_without_the_virtualenv_lint_says_how_to_make_it(tree):
    (tree / ".venv").unlink()
    result = lint(tree)
    assert result.returncode == 2
    assert result.stderr == "lint: .venv/bin is missing (the linters pinned in uv.lock): run make venv\n"
