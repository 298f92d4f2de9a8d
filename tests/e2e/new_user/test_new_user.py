"""A newcomer's own server, tried as a new user would, in the lab: a bare Debian 13 server where
only root logs in with the newcomer's key (no deploy user, no sudo, no Docker: `lab bare`), and a
newcomer who is not root, whose PATH has no docker, with their own clone, Python and uv only.
They run the README's "Your own server in ten minutes": new-env, plan, deploy, then the site
serves, plan says "no changes", and status shows the host. Each step's time is printed, and the
time from new-env to serving.

What only the lab adds to the environment new-env writes: its registry, which a throwaway CA
signs, and its stand-in stack images, since the lab can pull nothing from Docker Hub. They go
where the lab keeps its own generated settings, the environment's .state/secrets.yml, which the
stacks command passes as extra vars. Everything else is what the newcomer's commands wrote."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[3]
LAB = ROOT / "deploy" / "lab"
USER = "stacks-newcomer"
NAME = "newcomer"
ADDRESS = "10.77.0.31"  # lab.yml's lab_bare_ip
REVISION = os.environ.get("LAB_REVISION") or subprocess.run(
    ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
TIMES: dict[str, float] = {}


def as_root(*args, timeout=600, check=True):
    print("# " + " ".join(map(str, args)), flush=True)
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False)
    print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", flush=True)
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def uv_binary() -> str:
    """uv's own binary (what is on root's PATH may be a shim that runs something else)."""
    found = subprocess.run(["python3", "-c", "import uv; print(uv.find_uv_bin())"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return found or shutil.which("uv")


@pytest.fixture(scope="module")
def newcomer():
    """The newcomer: a user of this machine with a home, an SSH key, a clone of this repository
    at the revision under test, and a PATH of links to every command of /usr/bin and /bin but
    docker (and to uv). Its environment is built here, nothing inherited but SSL_CERT_FILE (this
    machine reaches the package index through a proxy whose CA that file holds)."""
    if subprocess.run(["id", USER], capture_output=True, check=False).returncode != 0:
        as_root("useradd", "--create-home", "--shell", "/bin/bash", USER)
    home = Path(pwd.getpwnam(USER).pw_dir)
    for leftover in ("stacks", "bin", ".ssh", ".config/stacks"):
        shutil.rmtree(home / leftover, ignore_errors=True)
    bin_dir = home / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/bin", "/bin"):
        for program in Path(folder).iterdir():
            if not program.name.startswith("docker") and not (bin_dir / program.name).exists():
                (bin_dir / program.name).symlink_to(program)
    shutil.copy(uv_binary(), bin_dir / "uv")  # a copy: root's may live where others cannot read
    as_root("git", "clone", "--quiet", ROOT, home / "stacks")
    as_root("git", "-C", home / "stacks", "checkout", "--quiet", REVISION)
    as_root("chown", "-R", f"{USER}:{USER}", home)
    env = {"HOME": str(home), "USER": USER, "LOGNAME": USER, "PATH": str(bin_dir), "LANG": "C.UTF-8",
           **({"SSL_CERT_FILE": os.environ["SSL_CERT_FILE"]} if os.environ.get("SSL_CERT_FILE") else {})}

    def run(*args, timeout=1200):
        """ARGS as the newcomer in their clone: no root, no docker on PATH."""
        print(f"{USER}$ " + " ".join(args), flush=True)
        started = time.monotonic()
        result = subprocess.run(["runuser", "-u", USER, "--", "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()),
                                 *args], cwd=home / "stacks", capture_output=True, text=True, timeout=timeout, check=False)
        print(result.stdout[-6000:], result.stderr[-3000:], sep="\n", flush=True)
        return result, time.monotonic() - started

    result, _ = run("which", "docker")
    assert result.returncode != 0, "docker is on the newcomer's PATH"
    result, _ = run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / ".ssh" / "id_ed25519"))
    assert result.returncode == 0
    as_root(LAB / "lab", "bare", home / ".ssh" / "id_ed25519.pub")
    run.home = home
    return run


def ssh(newcomer, login, command):
    """ssh as LOGIN to the server, its key checked against the known_hosts new-env wrote."""
    known = newcomer.home / "stacks" / "deploy" / NAME / "known_hosts"
    return newcomer("ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
                    f"{login}@{ADDRESS}", command)[0]


def test_the_bare_server_lets_only_root_in_and_has_no_docker(newcomer):
    result, _ = newcomer("ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         f"root@{ADDRESS}", "id -un; command -v docker sudo || true; getent passwd deploy || true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["root"]


def test_new_env_writes_an_environment_for_the_server(newcomer):
    result, seconds = newcomer("make", "venv")
    assert result.returncode == 0, result.stderr
    TIMES["make venv (uv sync, once)"] = seconds
    result, seconds = newcomer("make", "new-env", f"NAME={NAME}", f"HOST={ADDRESS}", "REPOSITORY=10.77.0.2:5000/library")
    assert result.returncode == 0, result.stderr
    TIMES["new-env"] = seconds
    assert f"new-env: wrote deploy/{NAME}/ for one host, {ADDRESS}" in result.stdout
    assert f"{newcomer.home}/.config/stacks/{NAME}/vault-password" in result.stdout
    env_dir = newcomer.home / "stacks" / "deploy" / NAME
    assert (env_dir / "group_vars" / "library" / "vault.yml").read_text().startswith("$ANSIBLE_VAULT;")
    # The lab's own registry and stand-in images (see the module's docstring).
    lab_vars = yaml.safe_load((LAB / ".state" / "secrets.yml").read_text())
    lab_group = yaml.safe_load((LAB / "group_vars" / "library" / "docker.yml").read_text())
    lab_only = {key: lab_vars[key] for key in ("library_postgres_image", "library_caddy_image", "library_valkey_image",
                                                "library_pin_third_party_images")}
    lab_only.update(docker_registry=lab_group["docker_registry"],
                    docker_registry_ca_cert=(LAB / ".state" / "ca.crt").read_text())
    (env_dir / ".state").mkdir()
    (env_dir / ".state" / "secrets.yml").write_text(yaml.safe_dump(lab_only))
    subprocess.run(["chown", "-R", f"{USER}:{USER}", str(env_dir)], check=True)


def test_plan_says_the_server_is_new_and_changes_nothing(newcomer):
    result, seconds = newcomer("make", "plan", f"ENV={NAME}", f"REVISION={REVISION}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    TIMES["plan (new server)"] = seconds
    assert f"{NAME}-1:\n  new server: log in as root, make the deploy user and the admins" in result.stdout
    # Nothing was made: still no deploy user.
    assert ssh(newcomer, "root", "getent passwd deploy || echo none").stdout.strip() == "none"


def test_deploy_makes_the_server_serve_the_release(newcomer):
    result, seconds = newcomer("make", "deploy", f"ENV={NAME}", f"REVISION={REVISION}", timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    TIMES["deploy (first contact)"] = seconds
    ready = requests.get(f"http://{ADDRESS}/readyz", timeout=10)
    version = requests.get(f"http://{ADDRESS}/version", timeout=10).json()
    assert ready.status_code == 200 and version["revision"] == REVISION
    assert requests.get(f"http://{ADDRESS}/api/v1/books/", timeout=10).status_code == 200
    TIMES["new-env to serving"] = sum(TIMES[k] for k in ("new-env", "plan (new server)", "deploy (first contact)"))


def test_later_logins_are_the_deploy_user_and_root_is_shut_out(newcomer):
    result = ssh(newcomer, "deploy", "id -un; sudo -n true && echo sudo")
    assert result.stdout.split() == ["deploy", "sudo"], result.stderr
    result = ssh(newcomer, USER, "id -un")  # the newcomer's own admin account, named after their login
    assert result.stdout.split() == [USER], result.stderr
    result = ssh(newcomer, "root", "true")
    assert result.returncode == 255 and "Permission denied" in result.stderr


def test_plan_after_the_deploy_says_no_changes(newcomer):
    result, seconds = newcomer("make", "plan", f"ENV={NAME}", f"REVISION={REVISION}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    TIMES["plan (deployed, same revision)"] = seconds
    assert result.stdout.rstrip().endswith("plan: no changes"), result.stdout[-2000:]


def test_status_shows_the_host_serving_the_revision(newcomer):
    result, seconds = newcomer("make", "status", f"ENV={NAME}")
    assert result.returncode == 0, result.stderr
    TIMES["status"] = seconds
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith(f"{NAME}-1 "))
    assert REVISION in row and "healthy" in row
    # tests/e2e/run prints them after the phase.
    figures = "\n".join(f"  {step:<34} {taken:6.1f}" for step, taken in TIMES.items())
    (LAB / ".state" / "new-user-figures.log").write_text(f"a newcomer's own server, seconds:\n{figures}\n")
