"""tools/stacks/environments.py: which folder an ENV names, and Secrets, which turns the CI secrets
(DEPLOY_SSH_KEY, DEPLOY_KNOWN_HOSTS, ANSIBLE_VAULT_PASSWORD) into 0600 files in a private folder
under RUNNER_TEMP or TMPDIR, removed on exit, or finds the operator's own vault password file.
Called in this process with explicit environ dicts and tmp folders: no process is started."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from stacks import environments
from stacks.environments import Environment, Refused, Secrets

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-test-key-not-a-secret\n-----END OPENSSH PRIVATE KEY-----\n"
KNOWN_HOSTS = "192.0.2.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTestsOnly"
PASSWORD = "vault-password-for-tests-only"


@pytest.fixture
def ci(tmp_path) -> Environment:
    folder = tmp_path / "envs" / "ci"
    folder.mkdir(parents=True)
    (folder / "inventory.yml").write_text("library:\n  hosts:\n    web1:\n", encoding="utf-8")
    return Environment("ci", folder)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_select_finds_env_in_deploy_environments(ci, tmp_path):
    found = environments.select("ci", {"DEPLOY_ENVIRONMENTS": str(tmp_path / "envs")})
    assert (found.name, found.inventory) == ("ci", ci.inventory)


def test_select_lists_the_environments_of_the_repository_by_default():
    with pytest.raises(Refused) as caught:
        environments.select("", {})
    assert str(caught.value) == "ENV is required: the name of a folder of deploy/ (environments: lab production staging)"


def test_the_ci_secrets_become_private_files_under_runner_temp_that_are_gone_afterwards(ci, tmp_path):
    runner_temp, tmpdir = tmp_path / "runner", tmp_path / "tmp"
    runner_temp.mkdir(), tmpdir.mkdir()
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RUNNER_TEMP": str(runner_temp), "TMPDIR": str(tmpdir),
               "DEPLOY_SSH_KEY": KEY, "DEPLOY_KNOWN_HOSTS": KNOWN_HOSTS, "ANSIBLE_VAULT_PASSWORD": PASSWORD}
    with Secrets(ci, environ) as secrets:
        assert secrets.folder.parent == runner_temp and mode(secrets.folder) == 0o700
        key, known, password = (secrets.folder / name for name in ("ssh_key", "known_hosts", "vault_password"))
        for path, text in ((key, KEY), (known, KNOWN_HOSTS), (password, PASSWORD)):
            assert mode(path) == 0o600
            assert path.read_text(encoding="utf-8") == text.rstrip("\n") + "\n"
        assert secrets.playbook_args == ["--private-key", str(key)]
        assert secrets.ssh_options == ["-o", f"IdentityFile={key}", "-o", "StrictHostKeyChecking=yes",
                                       "-o", f"UserKnownHostsFile={known}"]
        child = secrets.child_environ
        assert not {"DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", "ANSIBLE_VAULT_PASSWORD"} & set(child)
        assert all(KEY.strip() not in value and PASSWORD not in value for value in child.values())
        assert child["ANSIBLE_VAULT_PASSWORD_FILE"] == str(password)
        assert child["ANSIBLE_HOST_KEY_CHECKING"] == "True"
        assert f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={known}" in child["ANSIBLE_SSH_ARGS"]
    assert list(runner_temp.iterdir()) == [] and list(tmpdir.iterdir()) == []


def test_without_runner_temp_the_secrets_go_under_tmpdir_and_are_removed_after_an_error(ci, tmp_path):
    environ = {"HOME": str(tmp_path), "TMPDIR": str(tmp_path / "tmp"), "DEPLOY_SSH_KEY": KEY}
    (tmp_path / "tmp").mkdir()
    with pytest.raises(RuntimeError), Secrets(ci, environ) as secrets:
        assert secrets.folder.parent == tmp_path / "tmp"
        assert "ANSIBLE_VAULT_PASSWORD_FILE" not in secrets.child_environ  # nothing vaulted, none needed
        raise RuntimeError("the playbook failed")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_operators_own_vault_password_file_is_used_when_ci_gives_none(ci, tmp_path):
    own = tmp_path / "home" / ".config" / "stacks" / "ci" / "vault-password"
    own.parent.mkdir(parents=True)
    own.write_text(PASSWORD + "\n", encoding="utf-8")
    with Secrets(ci, {"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)}) as secrets:
        assert secrets.child_environ["ANSIBLE_VAULT_PASSWORD_FILE"] == str(own)
    given = {"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path), "ANSIBLE_VAULT_PASSWORD_FILE": "/elsewhere/pw"}
    with Secrets(ci, given) as secrets:
        assert secrets.child_environ["ANSIBLE_VAULT_PASSWORD_FILE"] == "/elsewhere/pw"


def test_a_vaulted_env_without_a_vault_password_is_refused_and_leaves_nothing(ci, tmp_path):
    (ci.folder / "group_vars").mkdir()
    (ci.folder / "group_vars" / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n3031\n", encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    with pytest.raises(Refused) as caught, Secrets(ci, {"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")}):
        pass
    own = tmp_path / "home" / ".config" / "stacks" / "ci" / "vault-password"
    assert str(caught.value) == (f"ENV 'ci' holds vaulted secrets and no vault password was given: put it in {own}, "
                                 "or set ANSIBLE_VAULT_PASSWORD_FILE")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_labs_generated_settings_are_passed_as_extra_vars(ci):
    assert ci.extra_var_files == []
    (ci.folder / ".state").mkdir()
    (ci.folder / ".state" / "secrets.yml").write_text("{}\n", encoding="utf-8")
    assert ci.extra_var_files == [ci.folder / ".state" / "secrets.yml"]
