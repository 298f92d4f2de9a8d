"""The pre-commit hooks run the same linters as `make lint`: every linter tools/lint runs (its
`run NAME` lines) has a local hook that calls `tools/lint NAME`, so versions, arguments and
configuration are those of `make lint`. Read from the files only: pre-commit need not be
installed. The rule also runs on samples, so it is shown able to fail."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "tools" / "lint"
CONFIG = ROOT / ".pre-commit-config.yaml"
RUN_LINE = re.compile(r"^\s*run ([a-z][a-z0-9-]*) ", re.MULTILINE)


def lint_linters(text: str) -> list[str]:
    return RUN_LINE.findall(text)


def hook_problems(linters: list[str], config: dict) -> list[str]:
    hooks = {
        hook["id"]: hook
        for repo in config.get("repos") or []
        if repo.get("repo") == "local"
        for hook in repo.get("hooks") or []
    }
    problems = []
    for name in linters:
        hook = hooks.get(name)
        if hook is None:
            problems.append(f"{name}: no local hook")
            continue
        if hook.get("entry") != f"tools/lint {name}":
            problems.append(f"{name}: entry {hook.get('entry')!r} is not 'tools/lint {name}'")
        if hook.get("language") not in ("script", "system"):
            problems.append(f"{name}: language {hook.get('language')!r} installs its own copy of the linter")
        if hook.get("pass_filenames", True):
            problems.append(f"{name}: pass_filenames must be false (tools/lint picks the files)")
    return problems


def test_every_linter_of_make_lint_has_a_hook_calling_tools_lint():
    linters = lint_linters(LINT.read_text(encoding="utf-8"))
    assert {"ruff", "yamllint", "ansible-lint", "hadolint", "actionlint", "shellcheck"} <= set(linters)
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert hook_problems(linters, config) == []


def test_a_linter_without_a_hook_or_with_another_command_is_named():
    linters = lint_linters('run ruff "$bin/ruff" check .\n  run newlint "$bin/newlint" .\n')
    assert linters == ["ruff", "newlint"]
    config = {"repos": [{"repo": "local", "hooks": [
        {"id": "ruff", "entry": "ruff check", "language": "python"},
    ]}]}
    assert hook_problems(linters, config) == [
        "ruff: entry 'ruff check' is not 'tools/lint ruff'",
        "ruff: language 'python' installs its own copy of the linter",
        "ruff: pass_filenames must be false (tools/lint picks the files)",
        "newlint: no local hook",
    ]
