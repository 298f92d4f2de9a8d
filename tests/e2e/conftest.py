"""Helpers for the end-to-end lifecycle in the lab: run site.yml, build and publish app
revisions, talk to the hosts over SSH and HTTP. Every wait is bounded."""

import json
import os
import random
import re
import subprocess
import time

import lab_playbook
import pytest
import requests
import yaml
from lab_playbook import ROOT, playbook_command

LAB = ROOT / "deploy" / "lab"
STATE = LAB / ".state"
REGISTRY = "10.77.0.2:5000"
DOCKER = os.environ.get("DOCKER") or subprocess.run(
    [ROOT / "tools" / "offline" / "docker-client"], capture_output=True, text=True, check=True
).stdout.strip()
HTTP_TIMEOUT = 10

HOSTS = {
    name: v["ansible_host"]
    for name, v in yaml.safe_load((LAB / "inventory.yml").read_text())["library"]["hosts"].items()
}


def make_env():
    """The environment of a `make` a test runs: this one's, without what a CI runner or an
    operator's shell would hand the stacks command (a job summary to write to, its temporary
    folder, CI secrets, ansible settings): the lab is all it may act on."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "RUNNER_", "DEPLOY_", "ANSIBLE_")) and k not in ("MAKEFLAGS", "MAKELEVEL")}


def sh(*args, timeout=900, **kw):
    """Run a command, show it and its output, return the CompletedProcess (no check)."""
    print("$ " + " ".join(map(str, args)), flush=True)
    r = subprocess.run([str(a) for a in args], check=False, capture_output=True, text=True,
                       timeout=timeout, **kw)
    print(r.stdout[-4000:], r.stderr[-4000:], sep="\n", flush=True)
    return r


def make_lab(*args, stdin=""):
    """make TARGET ENV=lab ... from the repository, as an operator runs it, with STDIN; --silent:
    make does not echo its recipes, so stdout is the command's own."""
    return sh("make", "--silent", "--no-print-directory", "-C", ROOT, *args, "ENV=lab", input=stdin,
              timeout=300, env=make_env())


def status_rows(output):
    """{host: {column: cell}} of the table `make status` printed: the lines after its header, up
    to the blank line that ends it (a row begins with the host's name). Columns are cut where
    the header's names begin (a cell may hold several words)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["HOST", "REVISION"])
    header = lines[start]
    starts = [m.start() for m in re.finditer(r"(?<=  )\S|^\s*\S", header)]
    names = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None])]
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None])]
        if cells[0] in HOSTS:
            rows[cells[0]] = dict(zip(names, cells))
    return rows


def playbook(name, *extra, revision=None):
    """ansible-playbook NAME against the lab (lab_playbook.py), shown as it runs."""
    print("$ " + " ".join(playbook_command(name, *extra, revision=revision)), flush=True)
    run = lab_playbook.playbook(name, *extra, revision=revision)
    print(run.text[-4000:], flush=True)
    return run


def site_yml(revision, *extra):
    return playbook("site.yml", *extra, revision=revision)


def publish(tag):
    """Push library:TAG to the lab registry."""
    remote = f"{REGISTRY}/library:{tag}"
    assert sh(DOCKER, "tag", f"library:{tag}", remote).returncode == 0
    assert sh(DOCKER, "push", "-q", remote).returncode == 0


def releases(name):
    """/opt/library/releases.log of a host as (revision, result) pairs, oldest first."""
    return [(record["revision"], record["result"]) for record in release_records(name)]


def release_records(name):
    """/opt/library/releases.log of a host: one JSON object a line (time, revision, result,
    deployer, digest, kind, and restore_point or restored_from when there is one), oldest first."""
    r = ssh(name, "sudo cat /opt/library/releases.log")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def ssh(name, command):
    return sh("ssh", "-F", STATE / "ssh_config", name, command, timeout=60)


def get(url, **kw):
    return requests.get(url, timeout=HTTP_TIMEOUT, **kw)


def post(url, data, headers=None):
    """POST JSON that must succeed (200/201); returns the decoded answer."""
    r = requests.post(url, json=data, headers=headers or {}, timeout=HTTP_TIMEOUT)
    assert r.status_code in (200, 201), f"POST {url}: {r.status_code} {r.text[:300]}"
    return r.json()


def build(tag, version="0.0.0-e2e"):
    """library:TAG built from the working tree and pushed to the lab registry."""
    r = sh(ROOT / "tools/build-image", "library", tag, env={**os.environ, "VERSION": version})
    assert r.returncode == 0, "tools/build-image failed"
    publish(tag)


def build_never_ready(base):
    """library:BASE-never-ready (tests/e2e/never-ready: it starts but never serves), pushed to
    the lab registry; returns its tag."""
    broken = f"{base}-never-ready"
    r = sh(DOCKER, "build", "-q", "--build-arg", f"BASE=library:{base}", "-t",
           f"library:{broken}", ROOT / "tests/e2e/never-ready")
    assert r.returncode == 0
    publish(broken)
    return broken


def revisions():
    """{host: revision its /version reports}, or what went wrong instead of the revision."""
    answers = {}
    for name, ip in HOSTS.items():
        try:
            answers[name] = get(f"http://{ip}/version").json()["revision"]
        except (requests.RequestException, ValueError, KeyError) as e:
            answers[name] = f"no revision: {e!r}"
    return answers


def wait_for(what, check, seconds=60, interval=2):
    """Poll check() until it returns a truthy value; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds}s")
        time.sleep(interval)


def isbn13():
    """A random valid ISBN-13 (the API checks the check digit; unique per run)."""
    digits = [9, 7, 8] + [random.randrange(10) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits + [check]))


def git_revision():
    return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.fixture(scope="session")
def first_revision():
    """The revision `deploy/lab/lab up` deployed (LAB_REVISION, else the git revision)."""
    return os.environ.get("LAB_REVISION") or git_revision()


@pytest.fixture(scope="session")
def lab_secrets():
    path = STATE / "secrets.yml"
    assert path.exists(), f"{path} missing: run deploy/lab/lab up first"
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def admin_username():
    library = yaml.safe_load((LAB / "group_vars/library/library.yml").read_text())
    return library["library_admin_username"]
