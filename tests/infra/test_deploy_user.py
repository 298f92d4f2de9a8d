"""The deploy user and people's accounts (role base): the CI key is restricted by source
(from=) and forwards nothing; each admin has an account of their own; every sudo command
lands in the journal naming who ran it. The lab: CI key = the lab key, from 10.77.0.1 only."""

import subprocess
import time
import uuid

import pytest
from conftest import SSH_CONFIG

DEPLOY_USER = "deploy"
ADMIN = "ada"
LAB_CONTROLLER = "10.77.0.1"
KEY = SSH_CONFIG.parent / "id_ed25519"
KNOWN_HOSTS = SSH_CONFIG.parent / "known_hosts"


def ssh(name, user, command, *options):
    return subprocess.run(
        ["ssh", "-F", str(SSH_CONFIG), "-l", user, *options, name, command],
        capture_output=True, text=True, timeout=60, check=False,
    )


def ssh_from_the_host_itself(name, user):
    """Log in to NAME as USER over the host's own loopback (jumping through NAME as the lab's
    `debian`): the login comes from 127.0.0.1, not from 10.77.0.1, with the same key."""
    return subprocess.run(
        ["ssh", "-F", str(SSH_CONFIG), "-J", name, "-l", user, "-i", str(KEY),
         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={KNOWN_HOSTS}",
         "-o", f"HostKeyAlias={name}", "-o", "StrictHostKeyChecking=yes", "-o", "ControlPath=none",
         "127.0.0.1", "true"],
        capture_output=True, text=True, timeout=60, check=False,
    )


def sudo_journal_lines(host, marker, seconds=20):
    """The journal's sudo lines that mention MARKER (journald may take a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        lines = host.check_output("sudo journalctl -t sudo --since -10min -o cat --no-pager").splitlines()
        found = [line for line in lines if marker in line]
        if found or time.monotonic() > deadline:
            return found


def authorized_keys(host, user):
    with host.sudo():
        return host.file(f"/home/{user}/.ssh/authorized_keys").content_string.splitlines()


def test_ci_key_is_restricted_by_source(host):
    blob = KEY.with_suffix(".pub").read_text().split()[1]
    lines = [line for line in authorized_keys(host, DEPLOY_USER) if blob in line]
    assert len(lines) == 1, lines
    options = lines[0].split(" ", 1)[0].split(",")
    assert f'from="{LAB_CONTROLLER}"' in options
    assert {"no-agent-forwarding", "no-X11-forwarding", "no-port-forwarding"} <= set(options)


def test_ci_key_logs_in_from_the_allowed_source(name):
    r = ssh(name, DEPLOY_USER, "sudo -n true")
    assert r.returncode == 0, r.stderr


def test_ci_key_refused_from_anywhere_else(name):
    r = ssh_from_the_host_itself(name, DEPLOY_USER)
    assert r.returncode != 0
    assert "Permission denied" in r.stderr, r.stderr


def test_admin_account_logs_in_from_anywhere_allowed(name):
    # Same key, same route as above, no from= restriction: the route itself works.
    r = ssh_from_the_host_itself(name, ADMIN)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("user", [DEPLOY_USER, ADMIN])
def test_sudo_commands_are_in_the_journal(host, name, user):
    marker = f"stacks-sudo-{uuid.uuid4().hex}"
    r = ssh(name, user, f"sudo -n /bin/echo {marker}")
    assert r.returncode == 0, r.stderr
    lines = sudo_journal_lines(host, marker)
    assert lines, f"no sudo record of {marker} in the journal of {name}"
    # sudo's own format: "USER : PWD=... ; USER=root ; COMMAND=/bin/echo MARKER"
    submitted_by, _, fields = lines[0].partition(" : ")
    assert submitted_by.strip() == user, lines[0]
    assert "USER=root" in fields.split(" ; "), lines[0]
    assert f"COMMAND=/bin/echo {marker}" in fields.split(" ; "), lines[0]


def test_only_listed_accounts_have_sudo_rules(host):
    with host.sudo():
        rules = host.check_output("cat /etc/sudoers.d/40-library-admins /etc/sudoers.d/50-deploy")
    users = {line.split()[0] for line in rules.splitlines() if line and not line.startswith("#")}
    assert users == {ADMIN, DEPLOY_USER}
