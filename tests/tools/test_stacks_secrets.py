"""`stacks deploy` as deploy.yml runs it on a GitHub runner, with the real ansible-playbook: the CI
secrets (DEPLOY_SSH_KEY, DEPLOY_KNOWN_HOSTS, ANSIBLE_VAULT_PASSWORD) reach ansible and ssh only
as 0600 files in a private folder under RUNNER_TEMP that is gone when the command ends, the vault
opens with them, nothing secret is printed, and the job summary goes where GITHUB_STEP_SUMMARY
points. The host is unreachable on purpose: ssh is a recorder (ANSIBLE_SSH_EXECUTABLE) that notes
the files it was pointed at, then fails like a refused connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-test-key-not-a-secret\n-----END OPENSSH PRIVATE KEY-----"
KNOWN_HOSTS = "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTestsOnly"
VAULT_PASSWORD = "vault-password-for-tests-only"

RECORDING_SSH = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
options = {{}}
for flag, value in zip(args, args[1:]):
    if flag == "-o" and "=" in value:
        key, _, val = value.partition("=")
        options[key] = val.strip('"')
files = {{}}
for key in ("IdentityFile", "UserKnownHostsFile"):
    if key in options and os.path.exists(options[key]):
        path = options[key]
        files[key] = {{"path": path, "mode": os.stat(path).st_mode & 0o777, "text": open(path).read()}}
with open(os.environ["SSH_RECORD"], "a") as record:
    record.write(json.dumps({{"options": options, "files": files}}) + "\\n")
sys.stderr.write("ssh: connect to host 127.0.0.1 port 22: Connection refused\\n")
sys.exit(255)
"""


@pytest.fixture
def environments(tmp_path) -> Path:
    """Environment `ci`: one host in group library, its secrets in a vault, as a real one."""
    envdir = tmp_path / "envs" / "ci"
    (envdir / "group_vars" / "all").mkdir(parents=True)
    (envdir / "inventory.yml").write_text(
        "library:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n      ansible_user: deploy\n", encoding="utf-8")
    (envdir / "group_vars" / "all" / "main.yml").write_text(
        "library_image_repository: ghcr.io/example-org/library\n"
        "library_postgres_image: postgres:17.6-trixie\n"  # pinned, as the preflight requires outside the lab
        "library_caddy_image: caddy:2.10.2\n"
        "library_valkey_image: valkey/valkey:8.1.11-trixie\n", encoding="utf-8")
    vault = envdir / "group_vars" / "all" / "vault.yml"
    # The preflight checks these, so it passes only when the vault was opened.
    vault.write_text("vault_library_secret_key: test-only-secret-key-0123456789abcdef0123456789\n"
                     "vault_library_db_password: test-only-db-password\n"
                     "vault_library_db_superuser_password: test-only-superuser-password\n", encoding="utf-8")
    password_file = tmp_path / "pw"
    password_file.write_text(VAULT_PASSWORD, encoding="utf-8")
    subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file),
                    str(vault)], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"},
                   check=True, capture_output=True, timeout=120)
    password_file.unlink()
    assert vault.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT")
    return tmp_path / "envs"


def test_the_ci_secrets_are_private_files_that_are_gone_afterwards(tmp_path, environments):
    runner_temp, home = tmp_path / "runner", tmp_path / "home"
    runner_temp.mkdir(), home.mkdir()
    ssh = tmp_path / "ssh"
    ssh.write_text(RECORDING_SSH, encoding="utf-8")
    ssh.chmod(0o755)
    record, summary = tmp_path / "ssh.jsonl", tmp_path / "summary.md"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "DEPLOY_ENVIRONMENTS": str(environments), "DEPLOY_SSH_KEY": KEY, "DEPLOY_KNOWN_HOSTS": KNOWN_HOSTS,
           "ANSIBLE_VAULT_PASSWORD": VAULT_PASSWORD, "ANSIBLE_SSH_EXECUTABLE": str(ssh), "ANSIBLE_SSH_RETRIES": "0",
           "SSH_RECORD": str(record), "RUNNER_TEMP": str(runner_temp), "GITHUB_ACTIONS": "true",
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_REPOSITORY": "example/stacks", "GITHUB_RUN_ID": "42"}
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "stacks"), "deploy", f"--revision={SHA}", "--", "ci"],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr

    # ansible got past the preflight of the vaulted inventory (the vault opened) and tried ssh.
    assert result.returncode == 2
    assert "PLAY [Log in to every host]" in output and "Connection refused" in output and "deploy: site.yml failed on ci" in result.stderr, output
    calls = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert calls, "ansible never ran ssh"
    assert calls[0]["options"]["StrictHostKeyChecking"] == "yes"
    for kind, expected in (("IdentityFile", KEY), ("UserKnownHostsFile", KNOWN_HOSTS)):
        secret = calls[0]["files"][kind]
        assert Path(secret["path"]).parent.parent == runner_temp  # RUNNER_TEMP/deploy.XXXXXX/file
        assert secret["mode"] == 0o600
        assert secret["text"].strip() == expected

    assert list(runner_temp.iterdir()) == []
    for secret in (KEY, "fake-test-key-not-a-secret", KNOWN_HOSTS, VAULT_PASSWORD):
        assert secret not in output

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Deploy to ci: site.yml failed ❌\n")
    assert f"/example/stacks/commit/{SHA}" in text and "/actions/runs/42" in text
    assert VAULT_PASSWORD not in text
