"""The rules our GitHub workflows must follow that zizmor (tools/lint) does not check, as
functions returning a list of problems, so the tests can run them on the real workflows
(expecting none) and on broken samples (expecting the problem to be found): each rule is shown
able to fail. zizmor checks the rest: actions pinned to commit shas (unpinned-uses), no broad
default permissions (excessive-permissions), checkouts without persisted credentials
(artipacked); test_zizmor.py shows it finding each."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"

SHA = re.compile(r"^[0-9a-f]{40}$")
# A pinned reference carries the human version it stands for: `uses: o/r@<sha> # v1.2.3`.
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\b")
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")", "<", ">", ">>", "<<"}
# Runs a command as root; its arguments are the command to check.
AS_ROOT = ".github/scripts/as-root"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean true.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def steps(workflow: dict):
    for job_id, job in (workflow.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            yield job_id, index, step


def make_targets(makefile: Path = ROOT / "Makefile") -> set[str]:
    targets = set()
    for line in makefile.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?![:?+]?=)", line)
        if match:
            targets.add(match.group(1))
    return targets


def command_problems(script: str, root: Path = ROOT, targets: set[str] | None = None) -> list[str]:
    """A `run:` must be one command: a make target of the Makefile, or an executable script of
    the repository (optionally behind .github/scripts/as-root). No inline shell programs."""
    targets = make_targets(root / "Makefile") if targets is None else targets
    if "$(" in script or "`" in script:
        return [f"command substitution in run: {script!r}"]
    lexer = shlex.shlex(" ".join(script.split("\n")), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    if not words:
        return ["empty run:"]
    operators = [w for w in words if w in SHELL_OPERATORS]
    if operators:
        return [f"shell operators {operators} in run: {script!r}; put the logic in a script"]
    while words and words[0] == AS_ROOT:
        if not (root / AS_ROOT).is_file():
            return [f"{AS_ROOT} does not exist"]
        words = words[1:]
    if not words:
        return [f"{AS_ROOT} with no command"]
    program, args = words[0], words[1:]
    if program == "make":
        assignments = [a for a in args if "=" in a and not a.startswith("-")]
        if assignments:
            # make expands a command-line value (a `$(shell ...)` in it runs): inputs reach
            # make through the step's env:, where make takes them as plain text.
            return [f"make variables {assignments} on the command line in run: {script!r}; pass them in env:"]
        named = [a for a in args if not a.startswith("-")]
        if not named:
            return [f"make without a target in run: {script!r}"]
        return [f"make target '{t}' is not in the Makefile" for t in named if t not in targets]
    path = root / program
    if "/" not in program or program.startswith("/"):
        return [f"'{program}' is not a script of this repository (run: {script!r})"]
    if not path.is_file():
        return [f"script {program} does not exist"]
    if not path.stat().st_mode & 0o111:
        return [f"script {program} is not executable"]
    return []


def run_problems(workflow: dict, root: Path = ROOT) -> list[str]:
    targets = make_targets(root / "Makefile")
    problems = []
    for job_id, index, step in steps(workflow):
        if "run" in step:
            problems += [f"{job_id} step {index}: {p}" for p in command_problems(step["run"], root, targets)]
    return problems


def pin_comment_problems(text: str) -> list[str]:
    """Every action pinned to a commit sha says which release it is: `uses: o/r@<sha> # v1.2.3`
    (zizmor checks the pin; a reader and Dependabot need the version)."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"^\s*(?:-\s*)?uses:\s*(['\"]?)([^\s'\"#]+)\1\s*(#.*)?$", line)
        if not match:
            continue
        name, _, version = match.group(2).partition("@")
        if SHA.match(version) and not VERSION_COMMENT.search(match.group(3) or ""):
            problems.append(f"line {number}: {name}@{version[:7]}… has no '# vX.Y.Z' comment")
    return problems


def permission_problems(workflow: dict, may_write: dict[str, set[str]]) -> list[str]:
    """A job writes only what `may_write[job_id]` allows (zizmor finds broad defaults; only we
    know which job needs which scope)."""
    problems = []
    for job_id, job in (workflow.get("jobs") or {}).items():
        effective = job.get("permissions", workflow.get("permissions")) or {}
        if isinstance(effective, str):
            problems.append(f"{job_id}: permissions '{effective}'; list each scope")
            continue
        for scope, level in effective.items():
            if level == "write" and scope not in may_write.get(job_id, set()):
                problems.append(f"{job_id}: {scope}: write is not needed")
    return problems


def secret_problems(workflow: dict) -> list[str]:
    """Secrets reach commands only through `env:`, never pasted into a script, where an echo
    or `set -x` would print them."""
    problems = []
    for job_id, index, step in steps(workflow):
        if re.search(r"\$\{\{[^}]*\bsecrets\.", str(step.get("run", ""))):
            problems.append(f"{job_id} step {index}: a secret is expanded inside run:")
    return problems


def serialization_problems(workflow: dict, job_id: str) -> list[str]:
    """The deploy job runs one at a time per environment and is never cancelled halfway."""
    job = (workflow.get("jobs") or {}).get(job_id)
    if job is None:
        return [f"no job '{job_id}'"]
    concurrency = job.get("concurrency", workflow.get("concurrency"))
    if not isinstance(concurrency, dict) or not concurrency.get("group"):
        return [f"{job_id}: no concurrency group"]
    if concurrency.get("cancel-in-progress") is not False:
        return [f"{job_id}: concurrency must say cancel-in-progress: false"]
    return []


def input_check_problems(workflow: dict, job_id: str, check: str, inputs: set[str]) -> list[str]:
    """Every step of `job_id` that takes one of the dispatch `inputs` in its env comes after a
    step running `check` on the same values: nothing uses a typed-in value unchecked."""
    job = (workflow.get("jobs") or {}).get(job_id)
    if job is None:
        return [f"no job '{job_id}'"]
    problems, checked = [], {}
    for index, step in enumerate(job.get("steps") or []):
        env = step.get("env") or {}
        takes = {name: value for name, value in env.items() if any(f"inputs.{i}" in str(value) for i in inputs)}
        if check in str(step.get("run", "")):
            checked.update(takes)
            continue
        for name, value in takes.items():
            if checked.get(name) != value:
                problems.append(f"{job_id} step {index}: {name} comes from an input that no earlier '{check}' step checked")
    return problems
