"""Helpers to run ansible/preflight.yml against a copy of a real inventory (deploy/<env>/) whose
vault the test encrypts itself with a throwaway password, so no real secret is needed.

No host may be contacted: ssh is a recorder (ANSIBLE_SSH_EXECUTABLE) that notes every call and
fails like a refused connection, so a contact shows up both in the record and as an unreachable
result. Results are read from the JSON callback (tests/ansible_results.py), as the e2e tests do."""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ansible_results import JSON_CALLBACK, Run, read_run

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "ansible"
DEPLOY_DIR = ROOT / "deploy"
# The root .venv (pytest runs from it): ansible-playbook and ansible-vault sit beside python.
BIN = Path(sys.executable).parent
SHA = "0123456789abcdef0123456789abcdef01234567"
# The operator's database CA (an inventory's database-ca.pem): PEM framing is what the
# preflight checks; it is never used to connect.
FAKE_CA = "-----BEGIN CERTIFICATE-----\nZmFrZS10ZXN0LW9ubHktY2E=\n-----END CERTIFICATE-----\n"
GROUP_VARS = Path("group_vars") / "library"

RECORDING_SSH = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["SSH_RECORD"], "a") as record:
    record.write(json.dumps(sys.argv[1:]) + "\\n")
sys.stderr.write("ssh: connect to host: Connection refused (stacks test recorder)\\n")
sys.exit(255)
"""


def fake_vault_values(vars_text: str) -> dict[str, str]:
    """Obviously fake values for every vault_* name the vars file mentions, each long enough
    for the preflight's length checks and free of quotes/newlines."""
    values = {}
    for name in sorted(set(re.findall(r"\bvault_[a-z0-9_]+", vars_text))):
        if name.endswith("tls_certificate"):
            values[name] = FAKE_CA
        elif name.endswith("tls_key"):
            values[name] = "-----BEGIN PRIVATE KEY-----\nZmFrZS10ZXN0LW9ubHkta2V5\n-----END PRIVATE KEY-----\n"
        elif name.endswith("database_url"):
            # Verified TLS, as the preflight requires of an external database.
            values[name] = f"postgres://library:fake-{secrets.token_hex(8)}@db.invalid:5432/library?sslmode=verify-full"
        else:
            values[name] = f"fake-test-only-{secrets.token_hex(20)}"
    return values


@dataclass
class Case:
    """One preflight run: which environment, what to change in the copy, what to pass with -e."""

    env: str
    extra_vars: dict = field(default_factory=dict)
    version: str | None = SHA  # None = no library_revision on the command line
    drop_vars: tuple[str, ...] = ()  # keys removed from group_vars/library/vars.yml
    set_vars: dict = field(default_factory=dict)  # keys written into vars.yml (None = a blank `key:`)
    drop_vault: tuple[str, ...] = ()  # vault_* keys left out of the encrypted vault.yml
    files: dict = field(default_factory=dict)  # {name: text} written beside inventory.yml
    playbook: str = "preflight.yml"
    human_output: bool = False  # ansible.cfg's own (human) output, as the operator reads it, not JSON


@dataclass
class CaseRun(Run):
    """A case's run: its JSON report (empty for a human_output case), the ssh calls it made,
    the hosts of its inventory and, for a human_output case only, stdout + stderr."""

    ssh_calls: list[list[str]]
    hosts: list[str]
    output: str | None = None


def write_password_file(path: Path) -> Path:
    """A random vault password, made for this test run only."""
    path.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


_vault_lock = threading.Lock()


@functools.cache
def _encrypted_vault(env: str, drop_vault: tuple[str, ...], password_file: Path, scratch: Path) -> str:
    vault = fake_vault_values((DEPLOY_DIR / env / GROUP_VARS / "vars.yml").read_text(encoding="utf-8"))
    for key in drop_vault:
        del vault[key]
    clear = scratch / f"vault-{env}-without-{'-'.join(drop_vault) or 'nothing'}.yml"
    clear.write_text(yaml.safe_dump(vault), encoding="utf-8")
    subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(clear)],
        check=True, capture_output=True, timeout=60,
    )
    text = clear.read_text(encoding="utf-8")
    assert text.startswith("$ANSIBLE_VAULT;"), "the vault was not encrypted"
    return text


def encrypted_vault(env: str, drop_vault: tuple[str, ...], password_file: Path) -> str:
    """vault.yml of fake values for env, encrypted with ansible-vault (once per distinct content:
    each ansible-vault run costs about a second)."""
    with _vault_lock:
        return _encrypted_vault(env, drop_vault, password_file, password_file.parent)


def make_environment(case: Case, workdir: Path, password_file: Path) -> Path:
    """Copy deploy/<env>/ into workdir with its vault replaced by one of fake values encrypted
    with password_file; returns the inventory."""
    workdir.mkdir(parents=True)
    envdir = workdir / case.env
    shutil.copytree(DEPLOY_DIR / case.env, envdir, ignore=shutil.ignore_patterns(".state"))
    if case.drop_vars or case.set_vars:
        vars_file = envdir / GROUP_VARS / "vars.yml"
        settings = yaml.safe_load(vars_file.read_text(encoding="utf-8"))
        for key in case.drop_vars:
            del settings[key]
        settings.update(case.set_vars)
        vars_file.write_text("---\n" + yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    # Like the vault, the database CA is the operator's: a stand-in where the vars expect one.
    files = dict(case.files)
    if "database-ca.pem" in (envdir / GROUP_VARS / "vars.yml").read_text(encoding="utf-8"):
        files.setdefault("database-ca.pem", FAKE_CA)
    for name, text in files.items():
        (envdir / name).write_text(text, encoding="utf-8")
    (envdir / GROUP_VARS / "vault.yml").write_text(
        encrypted_vault(case.env, case.drop_vault, password_file), encoding="utf-8")
    return envdir / "inventory.yml"


def inventory_hosts(inventory: Path) -> list[str]:
    """Hosts of group `library` (at the top level or under all.children)."""
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    group = data.get("library") or data["all"]["children"]["library"]
    return sorted(group["hosts"])


def run_case(case: Case, workdir: Path, password_file: Path) -> CaseRun:
    inventory = make_environment(case, workdir, password_file)
    ssh = workdir / "ssh"
    ssh.write_text(RECORDING_SSH, encoding="utf-8")
    ssh.chmod(0o755)
    record = workdir / "ssh-calls.jsonl"
    record.touch()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_SSH_EXECUTABLE": str(ssh),
        "ANSIBLE_SSH_RETRIES": "0",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(workdir / "cp"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "SSH_RECORD": str(record),
        **({} if case.human_output else JSON_CALLBACK),
    }
    extra = dict(case.extra_vars)
    if case.version is not None:
        extra.setdefault("library_revision", case.version)
    command = [
        str(BIN / "ansible-playbook"), "-i", str(inventory), "--vault-password-file", str(password_file),
        case.playbook,
    ]
    if extra:
        # JSON keeps values with spaces or newlines exactly as given.
        command += ["-e", json.dumps(extra)]
    result = subprocess.run(
        command, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    calls = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    hosts = inventory_hosts(inventory)
    if case.human_output:
        return CaseRun(result.returncode, {}, result.stderr, calls, hosts, result.stdout + result.stderr)
    run = read_run(result)
    return CaseRun(run.rc, run.report, run.stderr, calls, hosts)
