"""tools/deploy, the command behind `make deploy` and deploy.yml: refuses bad input early, and
hands the secrets to the real ansible-playbook only as private temporary files that are gone
when it ends. The hosts here are unreachable on purpose: ssh is a recorder (ANSIBLE_SSH_EXECUTABLE)
that notes what ansible gave it; deploying for real is the lab's end-to-end test."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "tools" / "deploy"
SHA = "0123456789abcdef0123456789abcdef01234567"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-test-key-not-a-secret\n-----END OPENSSH PRIVATE KEY-----"
KNOWN_HOSTS = "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTestsOnly"
VAULT_PASSWORD = "vault-password-for-tests-only"

# Records each file ansible points ssh at (path, mode, content), then fails like a refused connection.
RECORDING_SSH = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
options = {}
for flag, value in zip(args, args[1:]):
    if flag == "-o" and "=" in value:
        key, _, val = value.partition("=")
        options[key] = val.strip('"')
files = {}
for key in ("IdentityFile", "UserKnownHostsFile"):
    if key in options and os.path.exists(options[key]):
        path = options[key]
        files[key] = {"path": path, "mode": os.stat(path).st_mode & 0o777, "text": open(path).read()}
with open(os.environ["SSH_RECORD"], "a") as record:
    record.write(json.dumps({"options": options, "files": files}) + "\\n")
sys.stderr.write("ssh: connect to host 127.0.0.1 port 22: Connection refused\\n")
sys.exit(255)
"""


def deploy(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEPLOY), *args], capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize(
    ("env_name", "message"),
    [
        ("nowhere", "deploy: ENV 'nowhere' has no deploy/nowhere/inventory.yml"),
        ("../deploy/lab", "deploy: ENV '../deploy/lab' has no"),
        ("", "deploy: ENV '' has no"),
    ],
)
def test_a_bad_environment_fails_early_with_one_line(env_name, message):
    result = deploy(env_name, SHA)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("revision", ["main", SHA[:12], "", SHA + "0", SHA.upper(), "v1.0.0"])
def test_a_revision_that_is_not_a_full_sha_fails_early_with_one_line(environment, revision):
    result = deploy("ci", revision, env={**os.environ, "DEPLOY_ENVIRONMENTS": str(environment)})
    assert result.returncode == 2
    assert result.stderr == f"deploy: REVISION '{revision}' is not a full git sha (images are tagged with it)\n"


@pytest.fixture
def environment(tmp_path):
    """deploy environment 'ci': one host in group library, vaulted secrets, as a real one."""
    envdir = tmp_path / "envs" / "ci"
    (envdir / "group_vars" / "all").mkdir(parents=True)
    (envdir / "inventory.yml").write_text(
        "library:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n      ansible_user: deploy\n",
        encoding="utf-8",
    )
    (envdir / "group_vars" / "all" / "main.yml").write_text(
        "library_image_repository: ghcr.io/example-org/library\n"
        # Third-party images pinned, as preflight requires outside the lab.
        "library_postgres_image: postgres:17.6-trixie\n"
        "library_caddy_image: caddy:2.10.2\n"
        "library_valkey_image: valkey/valkey:8.1.11-trixie\n", encoding="utf-8")
    password_file = tmp_path / "pw"
    password_file.write_text(VAULT_PASSWORD, encoding="utf-8")
    vault = envdir / "group_vars" / "all" / "vault.yml"
    # The preflight checks these: it passes only when the vault was opened.
    vault.write_text(
        "vault_library_secret_key: test-only-secret-key-0123456789abcdef0123456789\n"
        "vault_library_db_password: test-only-db-password\n"
        "vault_library_db_superuser_password: test-only-superuser-password\n",
        encoding="utf-8",
    )
    subprocess.run(
        [str(ROOT / ".venv/bin/ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(vault)],
        check=True, capture_output=True,
    )
    password_file.unlink()
    assert vault.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT")
    return tmp_path / "envs"


def test_secrets_are_private_files_that_are_gone_afterwards(tmp_path, environment):
    temp = tmp_path / "tmp"
    temp.mkdir()
    ssh = tmp_path / "ssh"
    ssh.write_text(RECORDING_SSH, encoding="utf-8")
    ssh.chmod(0o755)
    record = tmp_path / "ssh.jsonl"
    summary = tmp_path / "summary.md"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GITHUB_", "RUNNER_"))},
        "DEPLOY_ENVIRONMENTS": str(environment),
        "DEPLOY_SSH_KEY": KEY,
        "DEPLOY_KNOWN_HOSTS": KNOWN_HOSTS,
        "ANSIBLE_VAULT_PASSWORD": VAULT_PASSWORD,
        "ANSIBLE_SSH_EXECUTABLE": str(ssh),
        "ANSIBLE_SSH_RETRIES": "0",
        "SSH_RECORD": str(record),
        "TMPDIR": str(temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REPOSITORY": "example/stacks",
        "GITHUB_RUN_ID": "42",
    }
    result = deploy("ci", SHA, env=env)
    output = result.stdout + result.stderr

    # ansible got past the vaulted inventory (the password file worked) and tried ssh.
    assert result.returncode != 0
    assert "UNREACHABLE" in output and "Connection refused" in output, output
    assert "deploy: site.yml failed on ci" in result.stderr
    calls = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert calls, "ansible never ran ssh"
    call = calls[0]
    assert call["options"]["StrictHostKeyChecking"] == "yes"
    key, known = call["files"]["IdentityFile"], call["files"]["UserKnownHostsFile"]
    for secret, expected in ((key, KEY), (known, KNOWN_HOSTS)):
        assert Path(secret["path"]).parent.parent == temp  # TMPDIR/deploy.XXXXXX/file
        assert secret["mode"] == stat.S_IRUSR | stat.S_IWUSR
        assert secret["text"].strip() == expected

    # Nothing is left behind, and no secret was printed.
    assert list(temp.iterdir()) == []
    for secret in (KEY, "fake-test-key-not-a-secret", KNOWN_HOSTS, VAULT_PASSWORD):
        assert secret not in output

    text = summary.read_text(encoding="utf-8")
    assert "## Deploy to ci: site.yml failed" in text
    assert f"/example/stacks/commit/{SHA}" in text and "/actions/runs/42" in text
    assert VAULT_PASSWORD not in text


@pytest.mark.parametrize(
    ("action", "inputs", "message"),
    [
        ("--backup", {"STACKS_BACKUP_TYPE": "weekly"}, "deploy: TYPE 'weekly' is not incr, diff or full\n"),
        ("--restore", {"STACKS_RESTORE_AT": "yesterday"},
         "deploy: AT 'yesterday' is not a UTC time written \"YYYY-MM-DD HH:MM:SS\"\n"),
        ("--restore", {"STACKS_RESTORE_AT": "2026-11-23 10:15:00; rm -rf /"},
         "deploy: AT '2026-11-23 10:15:00; rm -rf /' is not a UTC time written \"YYYY-MM-DD HH:MM:SS\"\n"),
        ("--restore", {"STACKS_RESTORE_BACKUP": "latest\""},
         "deploy: BACKUP 'latest\"' is not a backup label (such as 20261123-101500F; make backup prints them)\n"),
        ("--restore", {"STACKS_RESTORE_AT": "2026-11-23 10:15:00", "STACKS_RESTORE_BACKUP": "20261123-101500F"},
         "deploy: AT '2026-11-23 10:15:00' and BACKUP '20261123-101500F' were both given: give one\n"),
        ("--restore", {"STACKS_CONFIRM": "y"}, "deploy: CONFIRM 'y' is not yes\n"),
        ("--restore", {"STACKS_HOST": "lab-1 lab-2"}, "deploy: HOST 'lab-1 lab-2' is not a host name\n"),
        ("--maintenance", {}, "deploy: STATE '' is not on or off\n"),
        ("--maintenance", {"STACKS_MAINTENANCE": "ON"}, "deploy: STATE 'ON' is not on or off\n"),
    ],
)
def test_a_bad_input_of_a_database_operation_fails_early_with_one_line(environment, action, inputs, message):
    result = deploy(action, "ci", env={**os.environ, "DEPLOY_ENVIRONMENTS": str(environment), **inputs})
    assert (result.returncode, result.stderr) == (2, message)


def test_the_operations_inputs_reach_ansible_as_json_values(environment, tmp_path):
    """A time with a space stays one value: the restore is asked for exactly that time."""
    fake = tmp_path / "bin"
    fake.mkdir()
    record = tmp_path / "argv.json"
    (fake / "ansible-playbook").write_text(
        f"#!/usr/bin/env python3\nimport json, sys\njson.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n", encoding="utf-8")
    (fake / "ansible-playbook").chmod(0o755)
    venv = tmp_path / "root"
    (venv / ".venv").mkdir(parents=True)
    (venv / ".venv" / "bin").symlink_to(fake)
    (venv / "tools").symlink_to(ROOT / "tools")
    (venv / "ansible").mkdir()  # the playbooks are not read: ansible-playbook is the recorder
    result = subprocess.run([str(venv / "tools" / "deploy"), "--restore", "ci"], capture_output=True, text=True,
                            env={**os.environ, "DEPLOY_ENVIRONMENTS": str(environment),
                                 "STACKS_RESTORE_AT": "2026-11-23 10:15:00", "STACKS_CONFIRM": "yes"},
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    argv = json.loads(record.read_text())
    assert argv[0] == "restore.yml"
    extra = [json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-e" and argv[i + 1].startswith("{")]
    assert {"library_restore_at": "2026-11-23 10:15:00", "library_restore_backup": "",
            "library_restore_confirm": "yes", "library_restore_host": ""} in extra
