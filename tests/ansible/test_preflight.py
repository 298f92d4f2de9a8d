"""ansible/preflight.yml (site.yml's first play): a good inventory passes without touching any
host; a bad inventory or variable fails early with one line naming the variable. Results are
read from the JSON report; the operator's [ERROR] line is checked in the human output itself."""

from __future__ import annotations

import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from ansible_helpers import (
    ANSIBLE_DIR,
    FAKE_CA,
    SHA,
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

EXTERNAL_DB = "postgres://library:fake-test-only-password@db.invalid:5432/library"

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
    "staging-valid": Case("staging"),
    "database-ca-file-elsewhere": Case(
        "production",
        extra_vars={"library_database_url": EXTERNAL_DB + "?connect_timeout=5&sslmode=verify-full",
                    "library_database_ca_file": "{{ inventory_dir }}/provider-root.pem"},
        files={"provider-root.pem": FAKE_CA},
    ),
    # The documented opt-out: the URL's own (weaker) sslmode is accepted as is.
    "database-tls-opt-out": Case(
        "production",
        extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=require",
                    "library_database_tls_verify": False},
    ),
    "database-tls-opt-out-no-sslmode": Case(
        "production", extra_vars={"library_database_url": EXTERNAL_DB, "library_database_tls_verify": False},
    ),
    "swarm-valid": swarm_case({"library_web_replicas": 4}),
    # The bundled database's continuous backups on its node (no dumps with swarm).
    "swarm-with-backups": swarm_case({"library_backup_repository_host": "library-backup-staging-1"}),
    # GitHub-hosted runners, knowingly: a CI key from anywhere with SSH open to anywhere.
    "ci-key-anywhere-accepted": Case(
        "production", extra_vars={"base_deploy_ci_key_from": [], "base_firewall_ssh_sources": ["0.0.0.0/0"],
                                  "base_deploy_ci_key_anywhere": True}),
    "images-by-digest": Case(
        "production",
        extra_vars={"library_postgres_image": "postgres:17@sha256:" + "ab" * 32,
                    "library_caddy_image": "mirror.example.com:5000/caddy@sha256:" + "cd" * 32,
                    "library_valkey_image": "valkey/valkey@sha256:" + "ef" * 32},
    ),
}

# id -> (variable the message must name, case)
BAD = {
    "version-missing": ("library_revision", Case("production", version=None)),
    "version-malformed": ("library_revision", Case("production", version="1.0:latest")),
    "repository-missing": ("library_image_repository", Case("production", drop_vars=("library_image_repository",))),
    "repository-with-tag": (
        "library_image_repository",
        Case("production", extra_vars={"library_image_repository": "ghcr.io/example-org/library:1.0"}),
    ),
    "secret-key-missing": ("library_secret_key", Case("production", drop_vault=("vault_library_secret_key",))),
    # staging: its one host runs the bundled db, which needs the password (production shares one).
    "db-password-missing": ("library_db_password", Case("staging", drop_vault=("vault_library_db_password",))),
    "ci-key-and-ssh-open-to-anywhere": (
        "base_deploy_ci_key_from",
        Case("production", extra_vars={"base_deploy_ci_key_from": [], "base_firewall_ssh_sources": ["0.0.0.0/0", "::/0"]})),
    "max-body-too-small": ("library_max_body_bytes", Case("production", extra_vars={"library_max_body_bytes": 100})),
    "throttle-rate-malformed": ("library_throttle_user", Case("production", extra_vars={"library_throttle_user": "600"})),
    # staging has a backup host: its repository is encrypted, and dumps go to age keys.
    "backup-cipher-pass-missing": (
        "library_backup_cipher_pass", Case("staging", drop_vault=("vault_library_backup_cipher_pass",))),
    "backup-cipher-pass-short": (
        "library_backup_cipher_pass", Case("staging", extra_vars={"library_backup_cipher_pass": "short"})),
    "dump-without-age-recipients": ("library_dump_age_recipients", Case("staging", extra_vars={"library_dump": True})),
    "dump-age-recipient-malformed": (
        "library_dump_age_recipients",
        Case("staging", extra_vars={"library_dump": True, "library_dump_age_recipients": ["ssh-ed25519 AAAA"]})),
    # Two production hosts behind one domain: ACME per host would race; one certificate is needed.
    "two-hosts-one-domain-no-certificate": (
        "library_tls_certificate",
        Case("production", extra_vars={"library_tls_certificate": "", "library_tls_key": ""}),
    ),
    "tls-key-not-pem": ("library_tls_key", Case("production", extra_vars={"library_tls_key": "not a key"})),
    "domain-with-scheme": ("library_domain", Case("production", extra_vars={"library_domain": "https://x"})),
    "domain-with-space": ("library_domain", Case("production", extra_vars={"library_domain": "a b"})),
    # Third-party images: an exact version or a digest, never a moving tag.
    "postgres-image-major-tag": ("library_postgres_image", Case("production", extra_vars={"library_postgres_image": "postgres:17"})),
    "postgres-image-major-suffix": (
        "library_postgres_image",
        Case("production", extra_vars={"library_postgres_image": "postgres:17-trixie"}),
    ),
    "postgres-image-no-tag": (
        "library_postgres_image",
        Case("production", extra_vars={"library_postgres_image": "registry.example.com:5000/postgres"}),
    ),
    "caddy-image-minor-tag": ("library_caddy_image", Case("production", extra_vars={"library_caddy_image": "caddy:2.10"})),
    "caddy-image-latest": ("library_caddy_image", Case("staging", extra_vars={"library_caddy_image": "caddy:latest"})),
    "caddy-image-short-digest": (
        "library_caddy_image",
        Case("production", extra_vars={"library_caddy_image": "caddy:2@sha256:abc123"}),
    ),
    "valkey-image-minor-tag": (
        "library_valkey_image", Case("production", extra_vars={"library_valkey_image": "valkey/valkey:8.1"})),
    "valkey-image-trixie-suffix": (
        "library_valkey_image", Case("staging", extra_vars={"library_valkey_image": "valkey/valkey:8-trixie"})),
    "valkey-image-not-a-reference": (
        "library_valkey_image", Case("production", extra_vars={"library_valkey_image": "valkey valkey"})),
    "pin-images-not-bool": (
        "library_pin_third_party_images",
        Case("production", extra_vars={"library_pin_third_party_images": "sometimes"}),
    ),
    # An external database: TLS that verifies the server, unless explicitly opted out.
    "database-url-without-sslmode": ("library_database_url", Case("production", extra_vars={"library_database_url": EXTERNAL_DB})),
    "database-url-sslmode-require": (
        "library_database_url",
        Case("production", extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=require"}),
    ),
    "database-url-sslmode-disable": (
        "library_database_url",
        Case("production", extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=disable"}),
    ),
    "database-url-sslmode-verify-ca": (
        "library_database_url",
        Case("production", extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=verify-ca"}),
    ),
    # The last sslmode wins in the app's URL parser: a weaker one after verify-full is refused.
    "database-url-sslmode-twice": (
        "library_database_url",
        Case("production", extra_vars={
            "library_database_url": EXTERNAL_DB + "?sslmode=verify-full&sslmode=disable"}),
    ),
    "database-tls-verify-not-bool": (
        "library_database_tls_verify",
        Case("production", extra_vars={"library_database_tls_verify": "maybe"}),
    ),
    "database-without-ca": ("library_database_ca_file", Case("production", extra_vars={"library_database_ca_file": ""})),
    "database-url-names-its-own-ca": (
        "library_database_ca_file",
        Case("production", extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=verify-full&sslrootcert=system"}),
    ),
    "database-ca-file-missing": (
        "library_database_ca_file",
        Case("production", extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=verify-full",
                                       "library_database_ca_file": "{{ inventory_dir }}/no-such-ca.pem"}),
    ),
    "database-ca-file-not-pem": (
        "library_database_ca_file",
        Case("production", extra_vars={"library_database_url": EXTERNAL_DB + "?sslmode=verify-full",
                                       "library_database_ca_file": "{{ inventory_dir }}/inventory.yml"}),
    ),
    # The bundled db's superuser: its own password, not the app role's.
    "db-superuser-password-missing": (
        "library_db_superuser_password",
        Case("staging", drop_vault=("vault_library_db_superuser_password",)),
    ),
    "db-superuser-password-same-as-app": (
        "library_db_superuser_password",
        Case("staging", extra_vars={"library_db_superuser_password": "{{ library_db_password }}"}),
    ),
    # Limits: a size or a count, so compose never starts a service without one.
    "keep-releases-zero": ("library_keep_releases", Case("production", extra_vars={"library_keep_releases": 0})),
    "max-open-loans-zero": ("library_max_open_loans", Case("production", extra_vars={"library_max_open_loans": 0})),
    "token-ttl-too-long": ("library_token_ttl", Case("staging", extra_vars={"library_token_ttl": 5000})),
    "web-memory-limit-bad": ("library_web_memory_limit", Case("production", extra_vars={"library_web_memory_limit": "lots"})),
    "db-memory-limit-zero": ("library_db_memory_limit", Case("staging", extra_vars={"library_db_memory_limit": "0"})),
    "proxy-pids-limit-bad": ("library_proxy_pids_limit", Case("production", extra_vars={"library_proxy_pids_limit": -1})),
    "cache-memory-limit-bad": ("library_cache_memory_limit", Case("staging", extra_vars={"library_cache_memory_limit": "256MB"})),
    # Valkey's own needs and its maxmemory (3/4 of the limit) leave next to nothing below 32m.
    "cache-memory-limit-too-small": (
        "library_cache_memory_limit", Case("production", extra_vars={"library_cache_memory_limit": "16m"})),
    "cache-pids-limit-zero": ("library_cache_pids_limit", Case("production", extra_vars={"library_cache_pids_limit": 0})),
    "docker-install-source-unknown": (
        "docker_install_source",
        Case("production", extra_vars={"docker_install_source": "snap"}),
    ),
    # Types and choices only the roles' meta/argument_specs.yml declares, checked before any host.
    "log-level-unknown": ("library_log_level", Case("production", extra_vars={"library_log_level": "LOUD"})),
    "permit-root-login-unknown": (
        "base_ssh_permit_root_login",
        Case("production", extra_vars={"base_ssh_permit_root_login": "maybe"}),
    ),
    "docker-log-max-file-text": ("docker_log_max_file", Case("staging", extra_vars={"docker_log_max_file": "many"})),
    # A swarm node's engine refuses to start with live-restore.
    "docker-swarm-node-live-restore": (
        "docker_daemon_options",
        Case("staging", extra_vars={"docker_swarm_node": True, "docker_daemon_options": {"live-restore": True}}),
    ),
    # The engine, and what swarm needs of the inventory.
    "library-engine-unknown": ("library_engine", Case("staging", extra_vars={"library_engine": "nomad"})),
    "swarm-without-managers": ("managers", Case("staging", extra_vars=SWARM)),
    "swarm-engines-differ": ("library_engine", Case(
        "staging", extra_vars={key: value for key, value in SWARM.items() if key != "library_engine"},
        files={"inventory.yml": (SWARM_INVENTORY % "").replace("198.51.100.20,", "198.51.100.20, library_engine: swarm,")},
    )),
    "swarm-with-dumps": (
        "library_dump",
        swarm_case({"library_backup_repository_host": "library-backup-staging-1", "library_dump": True}),
    ),
    "swarm-two-database-nodes": ("swarm_node_labels", swarm_case(second_node=', swarm_node_labels: {library.db: "true"}')),
    "swarm-live-restore": ("docker_daemon_options", swarm_case({"docker_daemon_options": {"live-restore": True}})),
    "swarm-no-replicas": ("library_web_replicas", swarm_case({"library_web_replicas": 0})),
}

# Values that slipped through once: Python's re.match accepts `$` before a trailing newline
# (patterns end in \Z now), and a blank `key:` in vars.yml is null, not "" (so the checks
# use default('', true)).
BAD_EDGES = {
    "version-trailing-newline": ("library_revision", Case("production", version=SHA + "\n")),
    "version-blank-in-vars": ("library_revision", Case("production", version=None, set_vars={"library_revision": None})),
    "repository-blank-in-vars": (
        "library_image_repository",
        Case("production", set_vars={"library_image_repository": None}),
    ),
}

# site.yml goes on to the hosts after the preflight: proof the ssh recorder sees a contact.
CANARY = {"site-contacts-hosts": Case("production", playbook="site.yml")}

# BAD cases run again with ansible.cfg's own output, the one line the operator reads: one whose
# message comes from a role's checks, one from its argument spec.
OPERATOR_VIEW = ("version-malformed", "log-level-unknown")
ERROR_PREFIX = "[ERROR]: Task failed: Action failed: "


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, CaseRun]:
    """Every case at once: each is a separate ansible-playbook of ~2-3 s, mostly start-up."""
    cases = {**VALID, **CANARY, **{k: c for k, (_, c) in {**BAD, **BAD_EDGES}.items()}}
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


@pytest.mark.parametrize(("name", "variable"), [(name, variable) for name, (variable, _) in BAD_EDGES.items()])
def test_a_trailing_newline_or_blank_value_fails_early_naming_it(runs, name, variable):
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


@pytest.mark.parametrize("role", ROLES)
def test_every_checked_variable_is_declared_in_the_argument_spec(role):
    """The preflight checks only variables its role declares (and so documents and validates)."""
    role_dir = ANSIBLE_DIR / "roles" / role
    text = (role_dir / "tasks" / "preflight.yml").read_text(encoding="utf-8")
    # The tasks' own helper variables and the role's filters are not inventory variables.
    local = {name for task in yaml.safe_load(text) for name in task.get("vars", {})}
    local |= {task["register"] for task in yaml.safe_load(text) if "register" in task}
    filters = set()
    for plugin in (role_dir / "filter_plugins").glob("*.py"):
        filters |= set(re.findall(rf'"({role}_[a-z0-9_]+)"', plugin.read_text(encoding="utf-8")))
    checked = set(re.findall(rf"\b{role}_[a-z0-9_]+", text)) - local - filters
    spec = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    declared = set(spec["argument_specs"]["main"]["options"])
    assert checked, text
    assert checked <= declared, sorted(checked - declared)
