"""Hostile deploy inputs run nothing. What a person types into "Run workflow" (revision,
environment) reaches `make deploy` and the stacks command; each hostile value below carries a command
that would create a marker file if make or a shell ever interpreted it. The real recipe and the
workflow's own input check run with them: each refuses the value with one line, and the marker
never appears. (`-o venv`: the recipe under test is deploy's; the suite's venv already exists.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK_INPUTS = ROOT / ".github" / "scripts" / "check-deploy-inputs"
SHA = "0123456789abcdef0123456789abcdef01234567"


def hostile_values(marker: Path) -> list[str]:
    touch = f"touch {marker}"
    return [
        f"{SHA}; {touch}",
        f"$({touch})",
        f"`{touch}`",
        f"$(shell {touch})",
        f"${{shell {touch}}}",
        f"'; {touch}; '",
        f'"; {touch}; "',
        f"{SHA}\n{touch}",
        f"$$({touch})",
    ]


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "marker"
    yield path
    assert not path.exists(), "a hostile value was run as a command"


def clean_env(**extra: str) -> dict[str, str]:
    """The whole environment of make: nothing inherited but PATH (a runner's RUNNER_TEMP,
    GITHUB_STEP_SUMMARY and the rest stay out)."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **extra}


def make_deploy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-o", "venv", "deploy", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize("index", range(9))
def test_a_hostile_revision_on_the_command_line_runs_nothing(marker, index):
    value = hostile_values(marker)[index]
    result = make_deploy(f"REVISION={value}", "ENV=production", env=clean_env())
    assert result.returncode != 0
    assert "is not a full git sha" in result.stderr, result.stderr


@pytest.mark.parametrize("index", range(9))
def test_a_hostile_revision_from_the_environment_runs_nothing(marker, index):
    """The workflow's way: the values are the step's env, make is called with no arguments."""
    value = hostile_values(marker)[index]
    result = make_deploy(env=clean_env(REVISION=value, ENV="production"))
    assert result.returncode == 2
    assert "is not a full git sha" in result.stderr, result.stderr
    # The value is reported as the text it was, not as what a shell would have made of it.
    assert value.splitlines()[0] in result.stderr


@pytest.mark.parametrize("index", range(9))
def test_a_hostile_environment_name_runs_nothing(marker, index):
    value = hostile_values(marker)[index].replace(SHA, "production")
    result = make_deploy(env=clean_env(REVISION=SHA, ENV=value))
    assert result.returncode == 2
    assert result.stderr.startswith("deploy: ENV '") and "is not an environment name" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 2  # one line, then make's own


@pytest.mark.parametrize("index", range(9))
def test_the_workflow_input_check_refuses_hostile_values(marker, index):
    value = hostile_values(marker)[index]
    for env in (clean_env(REVISION=value, ENV="production"),
                clean_env(REVISION=SHA, ENV=value.replace(SHA, "production"))):
        result = subprocess.run([str(CHECK_INPUTS)], capture_output=True, text=True, env=env,
                                timeout=30, check=False)
        assert result.returncode == 2
        assert result.stderr.startswith("check-deploy-inputs: ")
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_the_workflow_input_check_accepts_a_full_sha_and_a_known_environment(environment):
    result = subprocess.run([str(CHECK_INPUTS)], capture_output=True, text=True,
                            env=clean_env(REVISION=SHA, ENV=environment), timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"check-deploy-inputs: deploying {SHA} to {environment}\n"


@pytest.mark.parametrize("revision", [SHA.upper(), SHA[:12], "", "main"])
def test_the_workflow_input_check_refuses_what_is_not_a_full_sha(revision):
    result = subprocess.run([str(CHECK_INPUTS)], capture_output=True, text=True,
                            env=clean_env(REVISION=revision, ENV="production"), timeout=30, check=False)
    assert result.returncode == 2
    assert "is not a full git sha" in result.stderr


def test_a_good_environment_and_revision_from_the_environment_reach_the_stacks_command(tmp_path):
    """The values arrive intact: an unknown environment is named back exactly."""
    result = make_deploy(env=clean_env(REVISION=SHA, ENV="nowhere"))
    assert result.returncode == 2
    assert result.stderr.startswith("deploy: ENV 'nowhere' has no deploy/nowhere/inventory.yml"), result.stderr


@pytest.mark.parametrize("index", range(9))
def test_a_hostile_revision_reaches_make_image_as_text(marker, index):
    """`make image` takes REVISION too (the revision the image reports): make must not expand
    it, and its recipe passes it to tools/build-image as data. -n: make reads and expands
    everything, the recipe is printed, not run."""
    value = hostile_values(marker)[index]
    result = subprocess.run(["make", "--no-print-directory", "-n", "-o", "setup", "image"], cwd=ROOT,
                            capture_output=True, text=True, env=clean_env(REVISION=value), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('tools/build-image "$STACKS_IMAGE" "$STACKS_IMAGE_REVISION"'), result.stdout


@pytest.mark.parametrize("index", range(9))
def test_a_hostile_image_name_reaches_make_image_as_text(marker, index):
    """IMAGE too: make takes it as text (a `$(shell ...)` in it never runs) and the recipe hands
    it on as one quoted argument."""
    value = hostile_values(marker)[index]
    result = subprocess.run(["make", "--no-print-directory", "-n", "-o", "setup", "image", f"IMAGE={value}"], cwd=ROOT,
                            capture_output=True, text=True, env=clean_env(), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('tools/build-image "$STACKS_IMAGE" "$STACKS_IMAGE_REVISION"'), result.stdout
