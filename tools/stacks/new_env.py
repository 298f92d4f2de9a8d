"""`stacks new-env` (make new-env): a new environment of one host, ready for `make plan` and
`make deploy`: deploy/NAME/ with its inventory, settings, the host's SSH key, and secrets made
here into a new vault whose password is kept outside the repository. Every input is checked and
the host's key is read before anything is written; a NAME that exists is refused."""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from stacks import inputs
from stacks.environments import ROOT, environments_folder, vault_password_file

# The third-party images a new environment pins (the preflight refuses a moving tag): the same
# releases as deploy/production's.
STACK_IMAGES = {
    "library_postgres_image": "postgres:17.6-trixie",
    "library_caddy_image": "caddy:2.10.2",
    "library_valkey_image": "valkey/valkey:8.1.11-trixie",
}
PUBLIC_KEY = re.compile(r"(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?")


@dataclass(frozen=True)
class Request:
    """What new-env was asked for, every field checked."""

    name: str
    host: str
    domain: str
    email: str
    repository: str
    login: str
    admin: str
    public_key: str


def github_repository(root: Path = ROOT) -> str:
    """ghcr.io/OWNER/library when the clone's origin is on GitHub (what deploy.yml pushes), else ""."""
    found = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True,
                           check=False).stdout.strip()
    match = re.search(r"github\.com[:/]([A-Za-z0-9-]+)/", found)
    return f"ghcr.io/{match.group(1).lower()}/library" if match else ""


def default_key(environ: Mapping[str, str]) -> Path:
    home = Path(environ.get("HOME") or Path.home())
    for name in ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"):
        if (home / ".ssh" / name).is_file():
            return home / ".ssh" / name
    return home / ".ssh" / "id_ed25519.pub"


def admin_name(environ: Mapping[str, str]) -> str:
    """The operator's local user name as a Debian login (their account on the hosts)."""
    name = re.sub(r"[^a-z0-9_-]", "", (environ.get("USER") or getpass.getuser()).lower())
    return name if re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", name) and name not in ("root", "deploy") else "operator"


def check(args: argparse.Namespace, environ: Mapping[str, str], folder: Path) -> Request:
    if not args.name:
        raise inputs.BadInput("NAME", "", "is required: the new environment's name (make new-env NAME=<name> HOST=<address>)")
    name = inputs.environment_name("NAME", args.name)
    if (folder / name).exists():
        raise inputs.BadInput("NAME", name, f"exists already ({folder / name}): choose another name")
    if not args.host:
        raise inputs.BadInput("HOST", "", "is required: the address of your server (HOST=203.0.113.10)")
    host = inputs.address("HOST", args.host)
    domain = inputs.domain("DOMAIN", args.domain) if args.domain else ""
    email = inputs.email("EMAIL", args.email) if args.email else ""
    if email and not domain:
        raise inputs.BadInput("EMAIL", email, "is the ACME account of a certificate: give DOMAIN too")
    repository = args.repository or github_repository()
    if not repository:
        raise inputs.BadInput("REPOSITORY", "", "is required: origin is not on GitHub, so name the image repository "
                                                "(REPOSITORY=registry.example.org/you/library)")
    inputs.repository("REPOSITORY", repository)
    login = inputs.login("LOGIN", args.login or "root")
    key_path = Path(os.path.expanduser(args.key)) if args.key else default_key(environ)
    try:
        public_key = key_path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise inputs.BadInput("KEY", str(key_path), f"cannot be read ({error.strerror}): make one with "
                                                    "ssh-keygen -t ed25519, or give KEY=path/to/key.pub") from None
    if not PUBLIC_KEY.fullmatch(public_key):
        raise inputs.BadInput("KEY", str(key_path), "is not an SSH public key (one line: ssh-ed25519 AAAA...)")
    return Request(name, host, domain, email, repository, login, admin_name(environ), public_key)


def keyscan(host: str) -> list[str]:
    """The host's SSH host keys as known_hosts lines, read from the host (ssh-keyscan)."""
    result = subprocess.run(["ssh-keyscan", "-T", "10", "-t", "ed25519,ecdsa", host], capture_output=True,
                            text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    if not lines:
        why = " ".join(result.stderr.split()) or "no answer"
        raise inputs.BadInput("HOST", host, f"gave no SSH host key on port 22 ({why}): is it up, and is SSH open?")
    return lines


def fingerprint(known_hosts_line: str) -> str:
    """SHA256:... as ssh-keygen -l and the providers' consoles print it."""
    key_type, blob = known_hosts_line.split()[1:3]
    digest = base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode().rstrip("=")
    return f"{key_type} SHA256:{digest}"


def vault_secrets() -> dict[str, str]:
    return {
        "vault_library_secret_key": secrets.token_urlsafe(48),
        "vault_library_db_password": secrets.token_urlsafe(24),
        "vault_library_db_superuser_password": secrets.token_urlsafe(24),
        "vault_library_admin_password": secrets.token_urlsafe(18),
    }


def encrypt(text: str, password: str) -> str:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password.encode()))])
    return vault.encrypt(text.encode()).decode()


def files(request: Request, known_hosts: list[str], vault_text: str) -> dict[str, str]:
    """{path in deploy/NAME/: content}."""
    host_name = f"{request.name}-1"
    inventory = {"library": {"hosts": {host_name: {"ansible_host": request.host}}}}
    connection = {
        "ansible_user": "deploy",
        "base_bootstrap_user": request.login,
        "ansible_ssh_common_args": "-o UserKnownHostsFile={{ inventory_dir }}/known_hosts -o StrictHostKeyChecking=yes",
    }
    settings = {
        "base_admin_users": [{"name": request.admin, "keys": [request.public_key]}],
        "base_deploy_authorized_keys": [request.public_key],
        "library_image_repository": request.repository,
        **STACK_IMAGES,
        "library_domain": request.domain,
        "library_acme_email": request.email,
        "library_secret_key": "{{ vault_library_secret_key }}",
        "library_db_password": "{{ vault_library_db_password }}",
        "library_db_superuser_password": "{{ vault_library_db_superuser_password }}",
        "library_admin_username": "admin",
        "library_admin_email": request.email or f"admin@{request.domain or 'example.invalid'}",
        "library_admin_password": "{{ vault_library_admin_password }}",
    }
    return {
        "inventory.yml": f"# {request.name}: written by `make new-env`. The hosts that run the library (group library);\n"
                         "# to add one: a line here and its key in known_hosts (docs/operations.md).\n"
                         + yaml.safe_dump(inventory, sort_keys=False),
        "known_hosts": "\n".join(f"{request.host} {' '.join(line.split()[1:3])}" for line in known_hosts) + "\n",
        "group_vars/all/connection.yml": "# How ansible logs in: as deploy, made by the first run, which logs in as\n"
                                         "# base_bootstrap_user (the provider's user) while deploy cannot yet.\n"
                                         "# Host keys are checked against known_hosts beside inventory.yml.\n"
                                         + yaml.safe_dump(connection, sort_keys=False),
        "group_vars/library/vars.yml": "# Settings of the library hosts: what differs from the roles' defaults\n"
                                       "# (ansible/roles/*/defaults/main.yml documents every variable).\n"
                                       "# Secrets are in vault.yml: ansible-vault edit group_vars/library/vault.yml\n"
                                       "# --vault-password-file ~/.config/stacks/<name>/vault-password\n"
                                       + yaml.safe_dump(settings, sort_keys=False, width=200),
        "group_vars/library/vault.yml": vault_text,
    }


def write(folder: Path, contents: Mapping[str, str]) -> None:
    folder.mkdir(parents=True)
    for relative, text in contents.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def vault_password(environ: Mapping[str, str], name: str) -> tuple[Path, str, bool]:
    """The environment's vault password file outside the repository: (path, password, made now)."""
    path = vault_password_file(environ, name)
    if path.is_file():
        return path, path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    return path, password, True


def main(args: argparse.Namespace, environ: Mapping[str, str],
         scan: Callable[[str], list[str]] = keyscan, out=sys.stdout) -> int:
    folder = environments_folder(environ)
    request = check(args, environ, folder)
    known_hosts = scan(request.host)
    password_path, password, made = vault_password(environ, request.name)
    vault_text = encrypt(yaml.safe_dump(vault_secrets()), password)
    write(folder / request.name, files(request, known_hosts, vault_text))
    site = f"https://{request.domain}/" if request.domain else f"http://{request.host}/"
    relative = os.path.relpath(folder / request.name)
    print("\n".join([
        f"new-env: wrote {relative}/ for one host, {request.host} ({request.name}-1), serving {site}",
        f"  host key:  {', '.join(fingerprint(line) for line in known_hosts)}",
        "             compare it with your provider's console before the first deploy",
        f"  vault:     {relative}/group_vars/library/vault.yml, password in {password_path}"
        + ("" if made else " (kept from before)"),
        f"  first login as {request.login}, then as deploy; your key is admin {request.admin}'s and deploy's",
        f"  image:     {request.repository}:<git sha> (push to main, or make push-image REPOSITORY={request.repository})",
        "next:",
        f"  make plan ENV={request.name} REVISION=<git sha>",
        f"  make deploy ENV={request.name} REVISION=<git sha>",
        f"  make status ENV={request.name}",
    ]), file=out)
    if request.domain:
        print(f"  DNS: point {request.domain} at {request.host} before the deploy (the certificate needs it)", file=out)
    return 0


