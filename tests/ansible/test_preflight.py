"""ansible/preflight.yml (site.yml's first play): a good inventory passes without touching any
host; a bad inventory or variable fails early with one line naming the variable. Results are
read from the JSON report; the operator's [ERROR] line is checked in the human output itself.
These few runs prove the wiring (ansible/preflight.yml, the roles' tasks/preflight.yml, the
action library_preflight); every check is tested on its own in test_preflight_checks.py."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest
from ansible_helpers import (
    Case,
    CaseRun,
    run_case,
    write_password_file,
)

ROLES = ("base", "docker", "library")
# The preflight's tasks per role (ansible/roles/*/tasks/preflight.yml): its argument spec, its checks.
CHECK_TASKS = [
    task for role in ROLES
    for task in (f"{role} : Check the {role} variables against meta/argument_specs.yml", f"{role} : Check the {role} variables")
]

# staging as a swarm of two nodes: library-staging-1 manages it and keeps the database's volume.
SWARM_INVENTORY = """
all:
  children:
    library:
      hosts:
        library-staging-1: {ansible_host: 198.51.100.20, swarm_node_labels: {library.db: "true"}}
        library-staging-2: {ansible_host: 198.51.100.21%s}
    managers:
      hosts:
        library-staging-1:
    backup:
      hosts:
        library-backup-staging-1: {ansible_host: 198.51.100.30}
"""
SWARM = {"library_engine": "swarm", "library_backup_repository_host": "", "library_domain": ""}


def swarm_case(extra_vars=None, second_node=""):
    return Case("staging", extra_vars={**SWARM, **(extra_vars or {})},
                files={"inventory.yml": SWARM_INVENTORY % second_node})


VALID = {
    # production: its shared database's URL asks for sslmode=verify-full, against its CA file.
    "production-valid": Case("production"),
    # staging: the bundled database, backed up to another host.
    "staging-valid": Case("staging"),
    "swarm-valid": swarm_case({"library_web_replicas": 4}),
}

# id -> (variable the message must name, case): one of each way a problem reaches the operator
# (every check itself: test_preflight_checks.py).
BAD = {
    # A role's check (Python), and the line the operator reads.
    "version-malformed": ("library_revision", Case("production", version="1.0:latest")),
    # A key missing from the vault: named by its variable's check, not a template error.
    "secret-key-missing": ("library_secret_key", Case("production", drop_vault=("vault_library_secret_key",))),
    # A choice only the role's meta/argument_specs.yml declares.
    "backup-type-unknown": ("library_backup_type", Case("production", extra_vars={"library_backup_type": "weekly"})),
    # What swarm needs of the inventory: its groups and each host's own variables.
    "swarm-two-database-nodes": ("swarm_node_labels", swarm_case(second_node=', swarm_node_labels: {library.db: "true"}')),
    "base-firewall-not-bool": ("base_firewall", Case("staging", extra_vars={"base_firewall": "off"})),
    "docker-registry-password-missing": (
        "docker_registry_password", Case("staging", drop_vault=("vault_docker_registry_password",))),
}

# site.yml goes on to the hosts after the preflight: proof the ssh recorder sees a contact.
CANARY = {"site-contacts-hosts": Case("production", playbook="site.yml")}

# The operator's view (ansible.cfg's own output) of a check's message and a spec's.
OPERATOR_VIEW = ("version-malformed", "backup-type-unknown")
ERROR_PREFIX = "[ERROR]: Task failed: Action failed: "


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, CaseRun]:
    """Every case at once: each is a separate ansible-playbook of ~2-3 s, mostly start-up."""
    cases = {**VALID, **CANARY, **{k: c for k, (_, c) in BAD.items()}}
    cases |= {f"{name}-human": dataclasses.replace(BAD[name][1], human_output=True) for name in OPERATOR_VIEW}
    base = tmp_path_factory.mktemp("preflight")
    password_file = write_password_file(tmp_path_factory.mktemp("vault") / "password")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_case, case, base / name, password_file) for name, case in cases.items()}
        return {name: future.result() for name, future in futures.items()}


def unreachable(run: CaseRun) -> dict[str, list[str]]:
    """{task: hosts} of every task some host was unreachable for."""
    return {task: hosts for task, hosts in run.hosts_by_task("unreachable").items() if hosts}


def assert_no_host_contacted(run: CaseRun):
    assert run.ssh_calls == [], f"ssh was called: {run.ssh_calls}"
    assert unreachable(run) == {}, run.text


@pytest.mark.parametrize("name", VALID)
def test_a_valid_inventory_passes_without_contacting_a_host(runs, name):
    run = runs[name]
    assert run.rc == 0, run.text
    assert_no_host_contacted(run)
    recap = run.recap
    assert sorted(recap) == run.hosts, (recap, run.text)
    for host, counters in recap.items():
        assert counters["failed"] == 0 and counters["unreachable"] == 0, (host, counters)
    # Every role's check ran on every host (not skipped because, e.g., the group was empty).
    passed = run.hosts_by_task("ok")
    for task in CHECK_TASKS:
        assert passed.get(task) == run.hosts, (task, passed, run.text)


def test_the_ssh_recorder_sees_a_contact(runs):
    """Without this, "no ssh call" above could mean the recorder is never used."""
    run = runs["site-contacts-hosts"]
    assert run.rc != 0
    assert any("cannot log in over SSH" in msg for msg in run.failure_messages()), run.text
    contacted = " ".join(" ".join(call) for call in run.ssh_calls)
    # site.yml's first contact after the preflight: the login, on every host.
    assert "203.0.113.10" in contacted, run.ssh_calls


def assert_fails_early_naming(run: CaseRun, variable: str):
    assert run.rc != 0, f"the preflight let the bad {variable} through:\n{run.text}"
    assert_no_host_contacted(run)
    msgs = run.failure_messages()
    assert msgs, f"no failed task:\n{run.text}"
    for msg in msgs:
        assert "\n" not in msg.strip(), f"message is more than one line: {msg!r}"
        assert variable in msg, msg


@pytest.mark.parametrize(("name", "variable"), [(name, variable) for name, (variable, _) in BAD.items()])
def test_a_bad_variable_fails_early_with_one_line_naming_it(runs, name, variable):
    assert_fails_early_naming(runs[name], variable)


@pytest.mark.parametrize("name", OPERATOR_VIEW)
def test_the_operator_reads_a_bad_variable_in_one_error_line(runs, name):
    """What the operator sees (ansible.cfg's output): one [ERROR] line, the check's whole message."""
    variable = BAD[name][0]
    run = runs[f"{name}-human"]
    assert run.rc != 0, run.output
    assert run.ssh_calls == [] and "UNREACHABLE" not in run.output, run.output
    errors = [line[len(ERROR_PREFIX):] for line in run.output.splitlines() if line.startswith(ERROR_PREFIX)]
    assert errors, f"no '{ERROR_PREFIX}<the check's own message>' line:\n{run.output}"
    for message in errors:
        assert variable in message, message
    msgs = runs[name].failure_messages()
    assert msgs, runs[name].text
    for msg in msgs:
        assert msg in errors, (msg, errors)
