"""tools/stacks/operations.py and playbooks.py, the verbs that run a playbook: which playbooks run
in which order, the verb's inputs reaching ansible as one JSON file of variables, the deploy lock
released after a failed run that held it, the smoke check after a deploy, the plan's report
printed, and the job summary written only where GITHUB_STEP_SUMMARY points. cli.main runs in
this process with an explicit environ; ansible-playbook is a recorder (playbooks.ansible_bin is
pointed at it) that notes its argv, cwd, variables and environment, and exits as told."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from stacks import cli, playbooks

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"

FAKE_PLAYBOOK = """
import json, os, shutil, sys
args = sys.argv[1:]
variables = {}
for flag, value in zip(args, args[1:]):
    if flag == "-e" and value.endswith(".json"):
        variables.update(json.load(open(value[1:])))
env = {k: os.environ.get(k) for k in ("LIBRARY_DEPLOYER", "DEPLOY_SSH_KEY", "ANSIBLE_VAULT_PASSWORD")}
vault_file = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
env["vault_password"] = open(vault_file).read() if vault_file else None
with open(os.environ["PLAYBOOK_RECORD"], "a") as record:
    record.write(json.dumps({"argv": args, "cwd": os.getcwd(), "vars": variables, "env": env}) + "\\n")
if "library_plan_report" in variables and os.environ.get("PLAN_REPORT"):
    shutil.copy(os.environ["PLAN_REPORT"], variables["library_plan_report"])
sys.exit(json.loads(os.environ.get("PLAYBOOK_STATUS", "{}")).get(args[0], 0))
"""


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """run(*argv, **environ) -> (status, captured stdout and stderr, [recorded playbook runs]) for `ci`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ansible-playbook").write_text(f"#!{sys.executable}\n{FAKE_PLAYBOOK}", encoding="utf-8")
    (bin_dir / "ansible-playbook").chmod(0o755)
    monkeypatch.setattr(playbooks, "ansible_bin", lambda name: str(bin_dir / name))
    (tmp_path / "envs" / "ci").mkdir(parents=True)
    (tmp_path / "envs" / "ci" / "inventory.yml").write_text("library:\n  hosts:\n    web1:\n", encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    record = tmp_path / "playbooks.jsonl"

    def invoke(*argv: str, **extra: str):
        environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "TMPDIR": str(tmp_path / "tmp"),
                   "DEPLOY_ENVIRONMENTS": str(tmp_path / "envs"), "PLAYBOOK_RECORD": str(record), **extra}
        status = cli.main([*argv, "--", "ci"], environ)
        runs = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()] if record.exists() else []
        record.unlink(missing_ok=True)
        assert list((tmp_path / "tmp").iterdir()) == []  # the run's private folder is gone
        return status, capsys.readouterr(), runs

    return invoke


def test_a_restore_time_with_a_space_reaches_ansible_as_one_json_value(run, tmp_path):
    status, _, (call,) = run("restore", "--at=2026-11-23 10:15:00", "--confirm=yes")
    assert status == 0
    assert call["argv"][:3] == ["restore.yml", "-i", str(tmp_path / "envs" / "ci" / "inventory.yml")]
    assert call["cwd"] == str(ROOT / "ansible")
    lock_id = call["vars"].pop("library_lock_id")
    assert re.fullmatch(r"[0-9a-f]{16}", lock_id)
    assert call["vars"] == {"library_restore_at": "2026-11-23 10:15:00", "library_restore_backup": "",
                            "library_restore_confirm": "yes", "library_restore_host": ""}


@pytest.mark.parametrize(("argv", "playbook", "variables"), [
    (["backup"], "backup.yml", {"library_backup_type": "incr"}),
    (["backup", "--type=full"], "backup.yml", {"library_backup_type": "full"}),
    (["maintenance", "--state=on"], "maintenance.yml", {"library_maintenance": "on"}),
    (["unlock"], "unlock.yml", {"library_unlock_force": True}),
    (["status"], "status.yml", {}),
])
def test_each_verb_runs_its_playbook_with_its_variables(run, argv, playbook, variables):
    status, _, (call,) = run(*argv)
    assert (status, call["argv"][0], call["vars"]) == (0, playbook, variables)
    if not variables:
        assert "-e" not in call["argv"]


def test_a_deploy_runs_site_yml_then_the_smoke_check_of_the_revision(run):
    status, out, calls = run("deploy", f"--revision={SHA}")
    assert status == 0
    assert [call["argv"][0] for call in calls] == ["site.yml", "smoke.yml"]
    assert calls[0]["vars"]["library_revision"] == SHA and "library_lock_id" in calls[0]["vars"]
    assert calls[1]["vars"] == {"library_revision": SHA}
    assert out.err.splitlines()[-1].startswith(f"deploy: ci runs {SHA} (site.yml ")


def test_a_failed_deploy_releases_its_own_lock_and_exits_with_the_playbooks_status(run):
    status, out, calls = run("deploy", f"--revision={SHA}", PLAYBOOK_STATUS='{"site.yml": 4}')
    assert status == 4
    assert [call["argv"][0] for call in calls] == ["site.yml", "unlock.yml"]
    assert calls[1]["vars"]["library_lock_id"] == calls[0]["vars"]["library_lock_id"]
    assert "library_unlock_force" not in calls[1]["vars"]  # only its own lock, never another run's
    assert "deploy: site.yml failed on ci (exit 4)" in out.err


def test_a_failed_smoke_check_fails_the_deploy(run):
    status, out, calls = run("deploy", f"--revision={SHA}", PLAYBOOK_STATUS='{"smoke.yml": 2}')
    assert (status, [call["argv"][0] for call in calls]) == (2, ["site.yml", "smoke.yml"])
    assert f"deploy: ci does not serve {SHA} on every host" in out.err


def test_a_failed_status_takes_no_lock_and_so_releases_none(run):
    status, _, calls = run("status", PLAYBOOK_STATUS='{"status.yml": 2}')
    assert (status, [call["argv"][0] for call in calls]) == (2, ["status.yml"])


def test_a_rollback_without_revision_goes_to_the_previous_release_without_smoke_check(run):
    status, out, calls = run("rollback")
    assert (status, [call["argv"][0] for call in calls]) == (0, ["rollback.yml"])
    assert "library_revision" not in calls[0]["vars"]
    assert "rollback: the previous release to ci" in out.err


def test_the_ci_secrets_reach_ansible_only_as_a_file(run):
    _, out, (call, _) = run("deploy", f"--revision={SHA}", DEPLOY_SSH_KEY="fake-key-for-tests",
                            ANSIBLE_VAULT_PASSWORD="vault-password-for-tests", GITHUB_RUN_ID="42", GITHUB_ACTOR="octo")
    assert call["env"] == {"LIBRARY_DEPLOYER": "github:octo/run/42", "DEPLOY_SSH_KEY": None,
                           "ANSIBLE_VAULT_PASSWORD": None, "vault_password": "vault-password-for-tests\n"}
    key = call["argv"][call["argv"].index("--private-key") + 1]
    assert not Path(key).exists()
    assert "fake-key-for-tests" not in out.err and "vault-password-for-tests" not in out.err


def test_the_job_summary_is_written_where_github_step_summary_points_and_nowhere_else(run, tmp_path):
    summary = tmp_path / "summary.md"
    run("deploy", f"--revision={SHA}", GITHUB_STEP_SUMMARY=str(summary), GITHUB_REPOSITORY="example/stacks",
        GITHUB_RUN_ID="42", PLAYBOOK_STATUS='{"site.yml": 2}')
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Deploy to ci: site.yml failed ❌\n")
    assert f"/example/stacks/commit/{SHA}" in text and "/actions/runs/42" in text and "`envs/ci/inventory.yml`" in text
    summary.unlink()
    run("deploy", f"--revision={SHA}")
    assert not summary.exists()


def test_plan_prints_the_reports_lines_from_a_check_mode_run(run, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps([{"host": "web1", "library": True, "first_contact": False, "login": "",
                                   "provision": [], "revision": SHA, "engine": "compose", "release": None}]))
    status, out, (call,) = run("plan", f"--revision={SHA}", PLAN_REPORT=str(report))
    assert (status, out.out) == (0, "web1: no changes\nplan: no changes\n")
    assert call["argv"][0] == "plan.yml" and call["argv"][-2:] == ["--check", "--diff"]
    assert call["vars"]["library_revision"] == SHA
    assert call["vars"]["library_plan_report"].startswith(str(tmp_path / "tmp"))


def test_plan_exits_1_when_the_playbook_wrote_no_report(run):
    status, out, _ = run("plan")
    assert status == 1
    assert (out.out, out.err) == ("", "plan: plan.yml failed on ci (exit 1)\n")


def test_the_digest_ci_built_reaches_the_deploy_and_its_summary(run, tmp_path):
    digest = "sha256:" + "ab" * 32
    summary = tmp_path / "summary.md"
    status, _, calls = run("deploy", f"--revision={'1' * 40}", f"--digest={digest}", GITHUB_STEP_SUMMARY=str(summary))
    assert status == 0
    assert calls[0]["argv"][0] == "site.yml" and calls[0]["vars"]["library_release_digest"] == digest
    assert f"| digest | `{digest}` |" in summary.read_text(encoding="utf-8")
