"""The environment a command works on: a folder of deploy/ (ENV is its name) with an
inventory.yml, and the secrets that open it. Secrets come from the process environment when set
(CI), else from the operator's own setup (ssh-agent, known_hosts, a vault password file):

    DEPLOY_SSH_KEY          private key of the deploy user on the hosts
    DEPLOY_KNOWN_HOSTS      known_hosts lines of the hosts (host keys are then checked strictly)
    ANSIBLE_VAULT_PASSWORD  the vault password of deploy/ENV
    ANSIBLE_VAULT_PASSWORD_FILE, else ~/.config/stacks/ENV/vault-password: a file that holds it

They are written only to 0600 files in a private temporary folder (under RUNNER_TEMP on a
GitHub runner, else TMPDIR), never printed, and removed when the command ends.
DEPLOY_ENVIRONMENTS names another folder of environments (e.g. inventories kept in a private
checkout)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from stacks import inputs

ROOT = Path(__file__).resolve().parents[2]
VAULT_HEADER = "$ANSIBLE_VAULT;"


class Refused(Exception):
    """The command cannot go on; the message is its one line (exit status 2, nothing contacted)."""


def environments_folder(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("DEPLOY_ENVIRONMENTS") or ROOT / "deploy")


def known_environments(folder: Path) -> list[str]:
    return sorted(p.parent.name for p in folder.glob("*/inventory.yml"))


def config_folder(environ: Mapping[str, str]) -> Path:
    """Where the operator's own files of this tool live (outside any repository)."""
    base = environ.get("XDG_CONFIG_HOME") or Path(environ.get("HOME") or Path.home()) / ".config"
    return Path(base) / "stacks"


def vault_password_file(environ: Mapping[str, str], name: str) -> Path:
    return config_folder(environ) / name / "vault-password"


@dataclass
class Environment:
    name: str
    folder: Path

    @property
    def inventory(self) -> Path:
        return self.folder / "inventory.yml"

    @property
    def extra_var_files(self) -> list[Path]:
        """A lab keeps its generated settings beside its inventory, in .state/secrets.yml."""
        lab_vars = self.folder / ".state" / "secrets.yml"
        return [lab_vars] if lab_vars.is_file() else []

    def is_vaulted(self) -> bool:
        return any(path.is_file() and path.read_text(encoding="utf-8", errors="replace").startswith(VAULT_HEADER)
                   for path in self.folder.glob("**/*.yml"))


def select(name: str, environ: Mapping[str, str]) -> Environment:
    """deploy/NAME, or Refused with one line naming ENV and the environments there."""
    folder = environments_folder(environ)
    known = " ".join(known_environments(folder))
    if not name:
        raise Refused(f"ENV is required: the name of a folder of {folder.name}/ (environments: {known})")
    try:
        inputs.environment_name("ENV", name)
    except inputs.BadInput:
        raise Refused(f"ENV '{inputs.shown(name)}' is not an environment name (environments: {known})") from None
    if not (folder / name / "inventory.yml").is_file():
        raise Refused(f"ENV '{name}' has no {folder.name}/{name}/inventory.yml (environments: {known})")
    return Environment(name, (folder / name).resolve())


@dataclass
class Secrets:
    """The secrets of one command run, as private files, and what ansible and ssh need to use them.
    Use as a context manager: the folder is removed on exit."""

    environment: Environment
    environ: Mapping[str, str]
    folder: Path = field(init=False)
    ssh_options: list[str] = field(default_factory=list)  # for a plain ssh: key and known hosts
    playbook_args: list[str] = field(default_factory=list)  # for ansible-playbook: --private-key
    child_environ: dict[str, str] = field(default_factory=dict)  # the environment of ansible and ssh

    def __enter__(self) -> Self:
        parent = self.environ.get("RUNNER_TEMP") or self.environ.get("TMPDIR") or tempfile.gettempdir()
        self.folder = Path(tempfile.mkdtemp(prefix="deploy.", dir=parent))
        env = {k: v for k, v in self.environ.items()
               if k not in ("DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS", "ANSIBLE_VAULT_PASSWORD")}
        if self.environ.get("DEPLOY_SSH_KEY"):
            key = self.write("ssh_key", self.environ["DEPLOY_SSH_KEY"])
            self.playbook_args += ["--private-key", str(key)]
            self.ssh_options += ["-o", f"IdentityFile={key}"]
        if self.environ.get("DEPLOY_KNOWN_HOSTS"):
            known = self.write("known_hosts", self.environ["DEPLOY_KNOWN_HOSTS"])
            # Strict: a host whose key is not listed is refused, whatever the inventory says.
            env["ANSIBLE_HOST_KEY_CHECKING"] = "True"
            env["ANSIBLE_SSH_ARGS"] = ("-C -o ControlMaster=auto -o ControlPersist=60s "
                                       f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={known}")
            self.ssh_options += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}"]
        if self.environ.get("ANSIBLE_VAULT_PASSWORD"):
            env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(self.write("vault_password", self.environ["ANSIBLE_VAULT_PASSWORD"]))
        elif not self.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"):
            own = vault_password_file(self.environ, self.environment.name)
            if own.is_file():
                env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(own)
            elif self.environment.is_vaulted():
                self.__exit__()
                raise Refused(f"ENV '{self.environment.name}' holds vaulted secrets and no vault password was given: "
                              f"put it in {own}, or set ANSIBLE_VAULT_PASSWORD_FILE")
        self.child_environ = env
        return self

    def __exit__(self, *_exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def write(self, name: str, value: str) -> Path:
        """VALUE into a file only its owner can read (mkdtemp made the folder 0700)."""
        path = self.folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(value.rstrip("\n") + "\n")
        return path
