"""tools/stacks/new_env.py (`make new-env`): each bad input is refused in one line before anything
is written (no deploy/NAME folder, no vault password file), and a good run writes an environment
the project's preflight accepts: its inventory, the scanned host key, the settings, and a vault of
new random secrets whose password is kept in HOME/.config/stacks/NAME/vault-password.
new_env.main is called in this process with an explicit environ (DEPLOY_ENVIRONMENTS and HOME in
tmp) and a stand-in for ssh-keyscan; keys are made with ssh-keygen, the preflight is the real
ansible-playbook, each in an environment built here."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.errors import AnsibleError
from ansible.parsing.vault import VaultLib, VaultSecret
from stacks import cli, inputs, new_env

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"
HOST = "203.0.113.10"
RECORDING_SSH = f"""#!{sys.executable}
import os, sys
open(os.environ["SSH_RECORD"], "a").write(" ".join(sys.argv) + "\\n")
sys.exit(255)
"""


def minimal_env(home: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    if os.environ.get("SSL_CERT_FILE"):
        env["SSL_CERT_FILE"] = os.environ["SSL_CERT_FILE"]
    return {**env, **extra}


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    """An operator's public key and a host's, made by ssh-keygen."""
    folder = tmp_path_factory.mktemp("keys")
    for name in ("operator", "host"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(folder / name)],
                       env=minimal_env(folder), check=True, capture_output=True, timeout=30)
    return {"operator": folder / "operator.pub", "host": folder / "host.pub"}


@pytest.fixture
def setup(tmp_path, keys):
    """The environ of a new-env run: environments in tmp (holding `taken`), HOME in tmp."""
    (tmp_path / "envs" / "taken").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    return minimal_env(tmp_path / "home", DEPLOY_ENVIRONMENTS=str(tmp_path / "envs"), USER="alice")


def scan_host(keys):
    def scan(host: str) -> list[str]:
        return [f"{host} {keys['host'].read_text(encoding='utf-8').strip()}"]
    return scan


def args(**given: str):
    return cli.parser().parse_args(["new-env", *(f"--{name}={value}" for name, value in given.items())])


def make(environ, keys, **given: str) -> str:
    """A good run of new-env; returns what it printed."""
    out = io.StringIO()
    given = {"host": HOST, "repository": "ghcr.io/example/library", "key": str(keys["operator"]), **given}
    assert new_env.main(args(**given), environ, scan=scan_host(keys), out=out) == 0
    return out.getvalue()


def decrypt(path: Path, password: str) -> dict:
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password.encode()))])
    return yaml.safe_load(vault.decrypt(path.read_text(encoding="utf-8")))


BAD = [
    ({"name": "Shop"}, "NAME 'Shop' is not an environment name"),
    ({"name": "../x"}, "NAME '../x' is not an environment name"),
    ({"name": ""}, "NAME '' is required"),
    ({"name": "taken"}, "NAME 'taken' exists already ("),
    ({"host": ""}, "HOST '' is required: the address of your server"),
    ({"host": "not a host!"}, "HOST 'not a host!' is not an IP address or a DNS name"),
    ({"host": "1.2.3.4.5"}, "HOST '1.2.3.4.5' is not an IP address or a DNS name"),
    ({"domain": "localhost"}, "DOMAIN 'localhost' is not a domain name"),
    ({"domain": "-bad.example"}, "DOMAIN '-bad.example' is not a domain name"),
    ({"domain": "shop.example.org", "email": "nobody"}, "EMAIL 'nobody' is not an email address"),
    ({"email": "ops@example.org"}, "EMAIL 'ops@example.org' is the ACME account of a certificate: give DOMAIN too"),
    ({"repository": "ghcr.io/Example/library:latest"}, "REPOSITORY 'ghcr.io/Example/library:latest' is not an image"),
    ({"login": "Root"}, "LOGIN 'Root' is not a user name"),
    ({"key": "{tmp}/missing.pub"}, "KEY '{tmp}/missing.pub' cannot be read (No such file or directory)"),
    ({"key": "{tmp}/envs/taken"}, "KEY '{tmp}/envs/taken' cannot be read (Is a directory)"),
    ({"key": "{tmp}/private"}, "KEY '{tmp}/private' is not an SSH public key"),
]


@pytest.mark.parametrize(("given", "start"), BAD, ids=[" ".join(f"{k}={v}" for k, v in g.items()) for g, _ in BAD])
def test_a_bad_input_is_refused_in_one_line_and_nothing_is_written(setup, keys, capsys, monkeypatch, tmp_path,
                                                                  given, start):
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail(f"a process was started: {a}"))
    (tmp_path / "private").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n", encoding="utf-8")
    given = {"name": "shop", "host": HOST, "repository": "ghcr.io/example/library", "key": str(keys["operator"]),
             **{k: v.format(tmp=tmp_path) for k, v in given.items()}}
    status = cli.main(["new-env", *(f"--{k}={v}" for k, v in given.items())], setup)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("new-env: " + start.format(tmp=tmp_path)) and err.count("\n") == 1, err
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == ["taken"]
    assert not (tmp_path / "home" / ".config").exists()


def test_a_host_that_gives_no_key_is_refused_before_anything_is_written(setup, keys, tmp_path):
    def no_key(host: str) -> list[str]:
        raise inputs.BadInput("HOST", host, "gave no SSH host key on port 22 (no answer): is it up, and is SSH open?")

    with pytest.raises(inputs.BadInput):
        new_env.main(args(name="shop", host=HOST, repository="ghcr.io/example/library", key=str(keys["operator"])),
                     setup, scan=no_key, out=io.StringIO())
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == ["taken"]
    assert not (tmp_path / "home" / ".config").exists()


def test_a_new_environment_has_one_host_its_key_and_a_vault_only_its_password_opens(setup, keys, tmp_path):
    printed = make(setup, keys, name="shop", domain="shop.example.org", email="ops@example.org")
    folder = tmp_path / "envs" / "shop"
    inventory = yaml.safe_load((folder / "inventory.yml").read_text(encoding="utf-8"))
    assert inventory == {"library": {"hosts": {"shop-1": {"ansible_host": HOST}}}}
    host_key = keys["host"].read_text(encoding="utf-8").split()
    assert (folder / "known_hosts").read_text(encoding="utf-8") == f"{HOST} {host_key[0]} {host_key[1]}\n"
    settings = yaml.safe_load((folder / "group_vars" / "library" / "vars.yml").read_text(encoding="utf-8"))
    assert (settings["library_domain"], settings["library_acme_email"]) == ("shop.example.org", "ops@example.org")
    assert settings["base_deploy_authorized_keys"] == [keys["operator"].read_text(encoding="utf-8").strip()]
    assert settings["base_admin_users"][0]["name"] == "alice"
    assert settings["library_image_repository"] == "ghcr.io/example/library"
    connection = yaml.safe_load((folder / "group_vars" / "all" / "connection.yml").read_text(encoding="utf-8"))
    assert (connection["ansible_user"], connection["base_bootstrap_user"]) == ("deploy", "root")

    password_file = tmp_path / "home" / ".config" / "stacks" / "shop" / "vault-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(password_file.parent.stat().st_mode) == 0o700
    vault = folder / "group_vars" / "library" / "vault.yml"
    assert vault.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    secrets = decrypt(vault, password_file.read_text(encoding="utf-8").strip())
    assert set(secrets) == {"vault_library_secret_key", "vault_library_db_password",
                            "vault_library_db_superuser_password", "vault_library_admin_password"}
    assert min(map(len, secrets.values())) >= 24 and len(secrets["vault_library_secret_key"]) >= 50
    assert len(set(secrets.values())) == 4
    with pytest.raises(AnsibleError):  # no other password opens it
        decrypt(vault, "not-the-password")

    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(keys["host"])], env=minimal_env(tmp_path),
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    assert f"ssh-ed25519 {fingerprint}" in printed
    assert "  DNS: point shop.example.org at 203.0.113.10" in printed


def test_two_environments_get_different_secrets_and_passwords(setup, keys, tmp_path):
    opened = []
    for name in ("one", "two"):
        make(setup, keys, name=name)
        password = (tmp_path / "home" / ".config" / "stacks" / name / "vault-password").read_text(encoding="utf-8")
        opened.append((password, decrypt(tmp_path / "envs" / name / "group_vars" / "library" / "vault.yml", password.strip())))
    (password_one, secrets_one), (password_two, secrets_two) = opened
    assert password_one != password_two
    assert not set(secrets_one.values()) & set(secrets_two.values())


def test_a_vault_password_kept_from_before_is_used_again(setup, keys, tmp_path):
    kept = tmp_path / "home" / ".config" / "stacks" / "shop" / "vault-password"
    kept.parent.mkdir(parents=True)
    kept.write_text("kept-password-for-tests-only\n", encoding="utf-8")
    printed = make(setup, keys, name="shop")
    assert decrypt(tmp_path / "envs" / "shop" / "group_vars" / "library" / "vault.yml", "kept-password-for-tests-only")
    assert f"password in {kept} (kept from before)" in printed
    assert kept.read_text(encoding="utf-8") == "kept-password-for-tests-only\n"


@pytest.mark.parametrize("web", [{"domain": "shop.example.org", "email": "ops@example.org"}, {}],
                         ids=["https", "http"])
def test_the_preflight_accepts_what_new_env_writes_and_contacts_no_host(setup, keys, tmp_path, web):
    make(setup, keys, name="shop", **web)
    ssh = tmp_path / "ssh"
    ssh.write_text(RECORDING_SSH, encoding="utf-8")
    ssh.chmod(0o755)
    record = tmp_path / "ssh.log"
    env = minimal_env(tmp_path / "home", ANSIBLE_SSH_EXECUTABLE=str(ssh), SSH_RECORD=str(record),
                      ANSIBLE_VAULT_PASSWORD_FILE=str(tmp_path / "home" / ".config" / "stacks" / "shop" / "vault-password"))
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "preflight.yml",
                             "-i", str(tmp_path / "envs" / "shop" / "inventory.yml"), "-e", f"library_revision={SHA}"],
                            cwd=ROOT / "ansible", env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "shop-1" in result.stdout and not record.exists()
