"""Our GitHub workflows lint clean, call only what exists in this repository, pin third-party
actions, declare least permissions, keep secrets out of scripts, and serialize deploys. Each
rule is also run on a broken sample, so a rule that cannot fail would show here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import rules

CI = rules.WORKFLOWS / "ci.yml"
DEPLOY = rules.WORKFLOWS / "deploy.yml"
ALL = sorted(rules.WORKFLOWS.glob("*.yml"))
ACTIONLINT = rules.ROOT / ".venv" / "bin" / "actionlint"
SHELLCHECK = rules.ROOT / ".venv" / "bin" / "shellcheck"


def test_the_two_workflows_exist():
    assert {p.name for p in ALL} >= {"ci.yml", "deploy.yml"}


def actionlint(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-shellcheck", str(SHELLCHECK)],
        cwd=directory, capture_output=True, text=True, check=False,
    )


def test_actionlint_is_clean():
    result = actionlint(rules.ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # Our deploy workflow with a typo in an expression and an unknown runner label.
    broken = DEPLOY.read_text(encoding="utf-8")
    broken = broken.replace("inputs.revision ||", "inputs.revison ||").replace("ubuntu-24.04", "ubuntu-linux", 1)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(broken, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = actionlint(tmp_path)
    assert result.returncode == 1
    assert '"revison" is not defined' in result.stdout
    assert 'label "ubuntu-linux" is unknown' in result.stdout


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_run_step_calls_a_make_target_or_a_repo_script(path):
    assert rules.run_problems(rules.load(path)) == []


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("make no-such-target", "make target 'no-such-target' is not in the Makefile"),
        ("make", "make without a target"),
        ("tools/no-such-script --flag", "script tools/no-such-script does not exist"),
        ("Makefile", "'Makefile' is not a script"),
        ("tests/workflows/rules.py", "is not executable"),
        ("curl -fsSL https://example.invalid/install.sh", "'curl' is not a script of this repository"),
        ("make lint && curl x", "shell operators ['&&']"),
        ("echo $(cat /etc/passwd)", "command substitution"),
        (".github/scripts/as-root make nope", "make target 'nope' is not in the Makefile"),
        (".github/scripts/as-root", "as-root with no command"),
    ],
)
def test_the_run_rule_rejects(script, problem):
    found = rules.command_problems(script)
    assert any(problem in p for p in found), found


def test_the_run_rule_accepts_targets_and_scripts_with_arguments():
    assert rules.command_problems(".github/scripts/as-root make deploy") == []
    assert rules.command_problems("tools/lint") == []
    assert rules.command_problems('.github/scripts/publish-image "$REVISION"') == []


def test_the_run_rule_rejects_make_variables_on_the_command_line():
    # Like a line deploy.yml once had: make expands the value, so REVISION='$(shell id)' would run id.
    found = rules.command_problems('.github/scripts/as-root make deploy ENV="$DEPLOY_ENV" REVISION="$REVISION"')
    assert any("on the command line" in p and "pass them in env:" in p for p in found), found


def test_dispatch_inputs_are_checked_before_any_step_uses_them():
    workflow = rules.load(rules.WORKFLOWS / "deploy.yml")
    assert rules.input_check_problems(workflow, "deploy", ".github/scripts/check-deploy-inputs",
                                      {"revision", "environment"}) == []


def test_the_input_check_rule_rejects_a_step_using_an_unchecked_input():
    workflow = {"jobs": {"deploy": {"steps": [
        {"env": {"REVISION": "${{ inputs.revision }}"}, "run": "make deploy"},
        {"env": {"REVISION": "${{ inputs.revision }}"}, "run": "tools/check"},
    ]}}}
    found = rules.input_check_problems(workflow, "deploy", "tools/check", {"revision"})
    assert found == ["deploy step 0: REVISION comes from an input that no earlier 'tools/check' step checked"]


def test_the_makefile_parser_sees_targets_not_variables():
    targets = rules.make_targets()
    assert {"lint", "test", "image", "deploy", "test-workflows"} <= targets
    assert "IMAGE" not in targets and "REVISION" not in targets and "ENV" not in targets


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_pinned_actions_say_their_release(path):
    text = path.read_text(encoding="utf-8")
    assert "uses:" in text
    assert rules.pin_comment_problems(text) == []


def test_the_pin_comment_rule_rejects_a_bare_sha():
    line = "      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8"
    assert rules.pin_comment_problems(line) == ["line 1: actions/checkout@08c6903… has no '# vX.Y.Z' comment"]
    assert rules.pin_comment_problems(line + " # v5.0.0") == []


def test_permissions_are_least():
    assert rules.permission_problems(rules.load(CI), may_write={}) == []
    # Only the job that pushes the image may write packages.
    assert rules.permission_problems(rules.load(DEPLOY), may_write={"publish": {"packages"}}) == []


def test_the_permission_rule_rejects_extra_writes():
    deploy = rules.load(DEPLOY)
    assert any("packages: write is not needed" in p for p in rules.permission_problems(deploy, {}))
    deploy["jobs"]["deploy"]["permissions"] = "write-all"
    assert any("permissions 'write-all'" in p for p in rules.permission_problems(deploy, {"publish": {"packages"}}))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_secrets_never_reach_a_script_inline(path):
    assert rules.secret_problems(rules.load(path)) == []
    assert "echo ${{ secrets." not in path.read_text(encoding="utf-8")


def test_the_secret_rule_rejects_an_inline_secret():
    deploy = rules.load(DEPLOY)
    deploy["jobs"]["deploy"]["steps"].append({"run": "echo ${{ secrets.DEPLOY_SSH_KEY }} > key"})
    last = len(deploy["jobs"]["deploy"]["steps"]) - 1
    assert rules.secret_problems(deploy) == [f"deploy step {last}: a secret is expanded inside run:"]


def test_deploys_are_serialized_and_never_cancelled():
    assert rules.serialization_problems(rules.load(DEPLOY), "deploy") == []
    deploy = rules.load(DEPLOY)
    deploy["jobs"]["deploy"]["concurrency"]["cancel-in-progress"] = True
    assert rules.serialization_problems(deploy, "deploy") == ["deploy: concurrency must say cancel-in-progress: false"]
    del deploy["jobs"]["deploy"]["concurrency"]
    assert rules.serialization_problems(deploy, "deploy") == ["deploy: no concurrency group"]


def test_deploy_follows_a_green_ci_on_main_and_can_be_run_by_hand():
    deploy, ci = rules.load(DEPLOY), rules.load(CI)
    on = rules.triggers(deploy)
    assert on["workflow_run"] == {"workflows": [ci["name"]], "types": ["completed"], "branches": ["main"]}
    assert "main" in rules.triggers(ci)["push"]["branches"]
    publish = deploy["jobs"]["publish"]
    assert "github.event.workflow_run.conclusion == 'success'" in publish["if"]
    assert "github.event.workflow_run.event == 'push'" in publish["if"]
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["revision"]["required"] is True
    assert inputs["environment"]["options"] == ["production", "staging"]
    assert inputs["environment"]["default"] == "production"
    # Every environment offered has an inventory folder (made by the ansible work).
    for name in inputs["environment"]["options"]:
        assert (rules.ROOT / "deploy" / name / "inventory.yml").is_file(), name


def test_deploy_runs_in_a_protected_environment_with_secrets_from_env():
    job = rules.load(DEPLOY)["jobs"]["deploy"]
    assert job["needs"] == "publish"
    assert job["environment"]["name"] == "${{ inputs.environment || 'production' }}"
    step = next(s for s in job["steps"] if "make deploy" in s.get("run", ""))
    for secret in ("DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", "ANSIBLE_VAULT_PASSWORD"):
        assert step["env"][secret] == "${{ secrets." + secret + " }}"


def test_the_images_are_pushed_to_ghcr_by_the_only_job_that_may_write_packages():
    publish = rules.load(DEPLOY)["jobs"]["publish"]
    assert publish["permissions"] == {"contents": "read", "packages": "write"}
    scripts = rules.ROOT / ".github" / "scripts"
    shared = (scripts / "lib" / "registry.sh").read_text(encoding="utf-8")
    assert "--password-stdin" in shared and "ghcr.io" in shared
    for script, step_id, outputs in (("publish-image", "push", {"image", "digest"}),
                                     ("publish-db-image", "push-db", {"db-image"})):
        step = next(s for s in publish["steps"] if f".github/scripts/{script}" in s.get("run", ""))
        assert step["id"] == step_id
        assert step["env"]["REGISTRY_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
        assert step["env"]["OWNER"] == "${{ github.repository_owner }}"
        for name in outputs:
            assert publish["outputs"][name] == f"${{{{ steps.{step_id}.outputs.{name} }}}}"
        assert ". .github/scripts/lib/registry.sh" in (scripts / script).read_text(encoding="utf-8")
    assert set(publish["outputs"]) == {"image", "digest", "db-image"}
    # The pipeline builds and pushes as a person does: make push-image's script, which builds
    # with make image's.
    assert "tools/push-image" in (scripts / "publish-image").read_text(encoding="utf-8")
    assert "tools/build-image" in (rules.ROOT / "tools" / "push-image").read_text(encoding="utf-8")
    assert re.search(r"^push-image:.*\n\ttools/push-image ", (rules.ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert "compose/db" in (scripts / "publish-db-image").read_text(encoding="utf-8")


def test_ci_runs_what_make_test_runs():
    # Every prerequisite of `make test` (read from the Makefile) is a CI step.
    makefile = (rules.ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.search(r"^TEST_PHASES := ([^#\n]*)", makefile, re.MULTILINE).group(1).split()
    assert {"lint", "test-app", "test-lab"} <= set(targets), targets
    ci = rules.load(CI)
    called = " ".join(str(s.get("run", "")) for _, _, s in rules.steps(ci))
    for target in targets:
        assert f"make {target}" in called, target


def test_ci_caches_uv_on_the_lock_files_and_images():
    text = CI.read_text(encoding="utf-8")
    assert "hashFiles('uv.lock', 'app/uv.lock')" in text
    assert "/tmp/image-cache" in text


def test_the_images_ci_caches_are_ones_the_repository_makes():
    made_by = [rules.ROOT / "tools" / "offline" / "base-image", rules.ROOT / "deploy" / "lab" / "lab",
               rules.ROOT / "tools" / "offline" / "images" / "build"]
    sources = "\n".join(p.read_text(encoding="utf-8") for p in made_by)
    saved = [
        word
        for _, _, step in rules.steps(rules.load(CI))
        if "image-cache save" in str(step.get("run", ""))
        for word in str(step["run"]).split()[4:]
    ]
    assert "debian:trixie-slim" in saved
    for image in saved:
        assert image in sources, f"{image} is cached by ci.yml but made by nothing in the repository"


def test_workflow_scripts_are_executable():
    # lib/ holds what they source, not scripts.
    for script in (rules.ROOT / ".github" / "scripts").iterdir():
        if script.is_file():
            assert script.stat().st_mode & 0o111, script
