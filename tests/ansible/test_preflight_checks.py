"""ansible/plugins/preflight_checks.py, the inventory preflight's checks, called as the action
library_preflight calls them: each bad variable gives one line naming it. Types and choices are
the roles' meta/argument_specs.yml, checked here with Ansible's own validator.
test_preflight.py runs the preflight itself (a few ansible-playbook runs: the wiring)."""

from __future__ import annotations

import re
import sys

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_helpers import ANSIBLE_DIR, DEPLOY_DIR, SHA

sys.path.insert(0, str(ANSIBLE_DIR / "plugins"))

import preflight_checks as checks

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample x@example.invalid"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nZmFrZQ==\n-----END PRIVATE KEY-----\n"
EXTERNAL_DB = "postgres://library:fake-test-only-password@db.invalid:5432/library"
# The operator's database CA in the production example (PEM framing is what is checked).
CA_FILE = str(DEPLOY_DIR / "production" / "database-ca.pem")
HOST_KEYS = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleBackupHostKeyExampleExampleExampleEx"]
AGE_KEY = "age1" + "q" * 58
DROP = object()  # a change that removes the variable (a missing vault key renders to nothing)


def role_defaults(role: str) -> dict:
    """The role's defaults that are plain values (the templated ones are set by the tests)."""
    defaults = yaml.safe_load((ANSIBLE_DIR / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    return {name: value for name, value in defaults.items() if "{{" not in str(value)}


def changed(variables: dict, changes: dict) -> dict:
    result = {**variables, **changes}
    return {name: value for name, value in result.items() if value is not DROP}


BASE = {**role_defaults("base"), "base_deploy_ci_key": KEY, "base_deploy_ci_key_from": ["192.0.2.10"],
        "base_firewall_ssh_sources": ["192.0.2.10", "192.0.2.128/25"]}
DOCKER = {**role_defaults("docker"), "docker_registry": "ghcr.io", "docker_registry_username": "example-bot",
          "docker_registry_password": "fake-test-only-token"}
COMMON = {
    **role_defaults("library"), "library_revision": SHA, "library_image_repository": "ghcr.io/example-org/library",
    "library_postgres_image": "postgres:17.6-trixie", "library_caddy_image": "caddy:2.10.2",
    "library_valkey_image": "valkey/valkey:8.1.11-trixie", "library_secret_key": "s" * 50,
    "library_admin_username": "admin", "library_admin_email": "admin@example.com",
    "library_admin_password": "fake-test-only-admin", "docker_daemon_options": {},
}
# Two hosts behind one name, sharing one certificate and an external database (as production).
PRODUCTION = {
    **COMMON, "library_domain": "library.example.com", "library_allowed_hosts": ["library.example.com"],
    "library_tls_certificate": CERTIFICATE, "library_tls_key": PRIVATE_KEY,
    "library_database_url": EXTERNAL_DB + "?sslmode=verify-full", "library_database_ca_file": CA_FILE,
    "library_db_password": "", "library_db_superuser_password": "", "library_backup_cipher_pass": "",
    "library_backup_repository_host": "", "library_dump": True,
}
PRODUCTION_GROUPS = {"library": ["library-prod-1", "library-prod-2"], "backup": []}
# One host with the bundled database, backed up to another host (as staging).
STAGING = {
    **COMMON, "library_domain": "library-staging.example.com", "library_allowed_hosts": ["library-staging.example.com"],
    "library_database_url": "", "library_db_password": "fake-test-only-db", "library_db_superuser_password":
    "fake-test-only-superuser", "library_backup_repository_host": "library-backup-staging-1",
    "library_backup_cipher_pass": "c" * 40, "library_backup_repository_host_keys": HOST_KEYS, "library_dump": False,
}
STAGING_GROUPS = {"library": ["library-staging-1"], "backup": ["library-backup-staging-1"]}
# Staging as a swarm of two nodes: library-staging-1 manages it and keeps the database's volume.
SWARM = {**STAGING, "library_engine": "swarm", "library_backup_repository_host": "", "library_domain": ""}
SWARM_GROUPS = {"library": ["library-staging-1", "library-staging-2"], "managers": ["library-staging-1"],
                "backup": ["library-backup-staging-1"]}
SWARM_HOSTS = {"library-staging-1": {"swarm_node_labels": {"library.db": "true"}}, "library-staging-2": {}}


def library(env=PRODUCTION, groups=None, hosts=None, **changes) -> list[str]:
    """The library checks' messages for env's variables with changes."""
    if groups is None:
        groups = {id(PRODUCTION): PRODUCTION_GROUPS, id(STAGING): STAGING_GROUPS, id(SWARM): SWARM_GROUPS}[id(env)]
    return checks.library_problems(changed(env, changes), groups, SWARM_HOSTS if hosts is None else hosts)


def base(**changes) -> list[str]:
    return checks.base_problems(changed(BASE, changes))


def docker(**changes) -> list[str]:
    return checks.docker_problems(changed(DOCKER, changes))


def assert_names(messages: list[str], variable: str):
    """The messages are one line each and name the variable (the line the operator reads joins
    them with "; ")."""
    assert messages, f"the bad {variable} got through"
    for message in messages:
        assert "\n" not in message, message
    assert variable in "; ".join(messages), messages


# ---- Valid settings pass ---------------------------------------------------------------------

VALID_LIBRARY = {
    "production": lambda: library(),
    "staging": lambda: library(STAGING),
    "database-ca-file-elsewhere": lambda: library(
        library_database_url=EXTERNAL_DB + "?connect_timeout=5&sslmode=verify-full"),
    # The documented opt-out: the URL's own (weaker) sslmode is accepted as is.
    "database-tls-opt-out": lambda: library(
        library_database_url=EXTERNAL_DB + "?sslmode=require", library_database_tls_verify=False),
    "database-tls-opt-out-no-sslmode": lambda: library(
        library_database_url=EXTERNAL_DB, library_database_tls_verify=False),
    "swarm": lambda: library(SWARM, library_web_replicas=4),
    # The bundled database's continuous backups on its node (no dumps with swarm).
    "swarm-with-backups": lambda: library(SWARM, library_backup_repository_host="library-backup-staging-1"),
    "images-by-digest": lambda: library(
        library_postgres_image="postgres:17@sha256:" + "ab" * 32,
        library_caddy_image="mirror.example.com:5000/caddy@sha256:" + "cd" * 32,
        library_valkey_image="valkey/valkey@sha256:" + "ef" * 32),
    "moving-tags-unpinned": lambda: library(library_pin_third_party_images=False, library_caddy_image="caddy:2"),
    "dump-to-age-recipients": lambda: library(STAGING, library_dump=True, library_dump_age_recipients=[AGE_KEY]),
    "acme-email": lambda: library(STAGING, library_acme_email="ops@example.com"),
}


@pytest.mark.parametrize("name", VALID_LIBRARY)
def test_valid_library_settings_pass(name):
    assert VALID_LIBRARY[name]() == []


def test_valid_host_settings_pass():
    assert base() == []
    assert base(base_firewall_ssh_sources=["192.0.2.10", "198.51.100.0/24", "2001:db8::/32"],
                base_firewall_udp_ports=[443], base_firewall_peer_sources=["10.0.0.2", "10.0.1.0/24", "2001:db8:1::/64"],
                base_deploy_ci_key_from=["192.0.2.10", "2001:db8::1"],
                base_admin_users=[{"name": "ada", "keys": [KEY]}], base_upgrades_reboot=True,
                base_upgrades_reboot_time="04:15") == []
    # GitHub-hosted runners, knowingly: a CI key from anywhere with SSH open to anywhere.
    assert base(base_deploy_ci_key_from=[], base_firewall_ssh_sources=["0.0.0.0/0"],
                base_deploy_ci_key_anywhere=True) == []


def test_valid_docker_settings_pass():
    assert docker() == []
    assert docker(docker_registry="mirror.example.com:5000", docker_registry_username="",
                  docker_registry_password=DROP, docker_registry_ca_cert=CERTIFICATE) == []


# ---- Each bad variable is named ---------------------------------------------------------------

# id -> (variable the messages must name, messages)
BAD_LIBRARY = {
    "version-missing": ("library_revision", lambda: library(library_revision="")),
    "version-malformed": ("library_revision", lambda: library(library_revision="1.0:latest")),
    # Python's re.match accepts `$` before a trailing newline: the patterns end in \Z.
    "version-trailing-newline": ("library_revision", lambda: library(library_revision=SHA + "\n")),
    # A blank `key:` in vars.yml is null, not "".
    "version-blank-in-vars": ("library_revision", lambda: library(library_revision=None)),
    "repository-missing": ("library_image_repository", lambda: library(library_image_repository="")),
    "repository-blank-in-vars": ("library_image_repository", lambda: library(library_image_repository=None)),
    "repository-with-tag": (
        "library_image_repository", lambda: library(library_image_repository="ghcr.io/example-org/library:1.0")),
    "secret-key-missing": ("library_secret_key", lambda: library(library_secret_key=DROP)),
    "secret-key-with-quote": ("library_secret_key", lambda: library(library_secret_key="'" + "s" * 40)),
    # staging: its one host runs the bundled db, which needs the password (production shares one).
    "db-password-missing": ("library_db_password", lambda: library(STAGING, library_db_password=DROP)),
    "db-password-with-newline": ("library_db_password", lambda: library(library_db_password="a\nb")),
    "max-body-too-small": ("library_max_body_bytes", lambda: library(library_max_body_bytes=100)),
    # staging has a backup host: its repository is encrypted, and dumps go to age keys.
    "backup-cipher-pass-missing": ("library_backup_cipher_pass", lambda: library(STAGING, library_backup_cipher_pass=DROP)),
    "backup-cipher-pass-short": ("library_backup_cipher_pass", lambda: library(STAGING, library_backup_cipher_pass="short")),
    "backup-host-is-a-library-host": (
        "library_backup_repository_host", lambda: library(STAGING, library_backup_repository_host="library-staging-1")),
    "backup-host-keys-missing": (
        "library_backup_repository_host_keys", lambda: library(STAGING, library_backup_repository_host_keys=[])),
    "backup-host-key-malformed": (
        "library_backup_repository_host_keys",
        lambda: library(STAGING, library_backup_repository_host_keys=[*HOST_KEYS, "AAAA"])),
    "backup-archive-timeout-zero": (
        "library_backup_archive_timeout", lambda: library(STAGING, library_backup_archive_timeout=0)),
    "dump-without-age-recipients": ("library_dump_age_recipients", lambda: library(STAGING, library_dump=True)),
    "dump-age-recipient-malformed": (
        "library_dump_age_recipients",
        lambda: library(STAGING, library_dump=True, library_dump_age_recipients=["ssh-ed25519 AAAA"])),
    "dump-age-recipients-string": (
        "library_dump_age_recipients", lambda: library(STAGING, library_dump=True, library_dump_age_recipients=AGE_KEY)),
    # An external database with dumps to a backup host: its host keys are needed too.
    "external-db-dumps-without-host-keys": (
        "library_backup_repository_host_keys",
        lambda: library(library_backup_repository_host="library-backup-1", library_backup_repository_host_keys=[])),
    # Two production hosts behind one domain: ACME per host would race; one certificate is needed.
    "two-hosts-one-domain-no-certificate": (
        "library_tls_certificate", lambda: library(library_tls_certificate="", library_tls_key="")),
    "tls-key-not-pem": ("library_tls_key", lambda: library(library_tls_key="not a key")),
    "tls-key-without-certificate": ("library_tls_certificate", lambda: library(STAGING, library_tls_key=PRIVATE_KEY)),
    "domain-with-scheme": ("library_domain", lambda: library(library_domain="https://x")),
    "domain-with-space": ("library_domain", lambda: library(library_domain="a b")),
    "domain-upper-case": ("library_domain", lambda: library(STAGING, library_domain="Library.example.com")),
    "acme-email-malformed": ("library_acme_email", lambda: library(STAGING, library_acme_email="ops")),
    "acme-email-without-domain": ("library_acme_email", lambda: library(SWARM, library_acme_email="ops@example.com")),
    "acme-email-with-certificate": ("library_acme_email", lambda: library(library_acme_email="ops@example.com")),
    "allowed-hosts-empty": ("library_allowed_hosts", lambda: library(library_allowed_hosts=[])),
    "allowed-hosts-url": ("library_allowed_hosts", lambda: library(library_allowed_hosts=["https://x.example"])),
    "admin-password-short": ("library_admin_password", lambda: library(library_admin_password="short")),
    "admin-password-missing": ("library_admin_password", lambda: library(library_admin_password=DROP)),
    "admin-email-malformed": ("library_admin_email", lambda: library(library_admin_email="admin")),
    # Third-party images: an exact version or a digest, never a moving tag.
    "postgres-image-major-tag": ("library_postgres_image", lambda: library(library_postgres_image="postgres:17")),
    "postgres-image-major-suffix": ("library_postgres_image", lambda: library(library_postgres_image="postgres:17-trixie")),
    "postgres-image-no-tag": (
        "library_postgres_image", lambda: library(library_postgres_image="registry.example.com:5000/postgres")),
    "postgres-image-missing": ("library_postgres_image", lambda: library(library_postgres_image="")),
    "caddy-image-minor-tag": ("library_caddy_image", lambda: library(library_caddy_image="caddy:2.10")),
    "caddy-image-latest": ("library_caddy_image", lambda: library(STAGING, library_caddy_image="caddy:latest")),
    "caddy-image-short-digest": ("library_caddy_image", lambda: library(library_caddy_image="caddy:2@sha256:abc123")),
    "valkey-image-minor-tag": ("library_valkey_image", lambda: library(library_valkey_image="valkey/valkey:8.1")),
    "valkey-image-trixie-suffix": ("library_valkey_image", lambda: library(STAGING, library_valkey_image="valkey/valkey:8-trixie")),
    "valkey-image-not-a-reference": ("library_valkey_image", lambda: library(library_valkey_image="valkey valkey")),
    "pin-images-not-bool": (
        "library_pin_third_party_images", lambda: library(library_pin_third_party_images="sometimes")),
    # An external database: TLS that verifies the server, unless explicitly opted out.
    "database-url-not-postgres": ("library_database_url", lambda: library(library_database_url="mysql://x@db/library")),
    "database-url-missing-from-vault": ("library_database_url", lambda: library(library_database_url=DROP)),
    "database-url-without-sslmode": ("library_database_url", lambda: library(library_database_url=EXTERNAL_DB)),
    "database-url-sslmode-require": ("library_database_url", lambda: library(library_database_url=EXTERNAL_DB + "?sslmode=require")),
    "database-url-sslmode-disable": ("library_database_url", lambda: library(library_database_url=EXTERNAL_DB + "?sslmode=disable")),
    "database-url-sslmode-verify-ca": (
        "library_database_url", lambda: library(library_database_url=EXTERNAL_DB + "?sslmode=verify-ca")),
    # The last sslmode wins in the app's URL parser: a weaker one after verify-full is refused.
    "database-url-sslmode-twice": (
        "library_database_url", lambda: library(library_database_url=EXTERNAL_DB + "?sslmode=verify-full&sslmode=disable")),
    "database-tls-verify-not-bool": ("library_database_tls_verify", lambda: library(library_database_tls_verify="maybe")),
    "database-without-ca": ("library_database_ca_file", lambda: library(library_database_ca_file="")),
    "database-url-names-its-own-ca": (
        "library_database_ca_file",
        lambda: library(library_database_url=EXTERNAL_DB + "?sslmode=verify-full&sslrootcert=system")),
    "database-ca-file-missing": (
        "library_database_ca_file", lambda: library(library_database_ca_file=str(DEPLOY_DIR / "no-such-ca.pem"))),
    "database-ca-file-not-pem": (
        "library_database_ca_file",
        lambda: library(library_database_ca_file=str(DEPLOY_DIR / "production" / "inventory.yml"))),
    # The bundled db's superuser: its own password, not the app role's.
    "db-superuser-password-missing": (
        "library_db_superuser_password", lambda: library(STAGING, library_db_superuser_password=DROP)),
    "db-superuser-password-same-as-app": (
        "library_db_superuser_password",
        lambda: library(STAGING, library_db_superuser_password=STAGING["library_db_password"])),
    # Limits: a size or a count, so compose never starts a service without one.
    "keep-releases-zero": ("library_keep_releases", lambda: library(library_keep_releases=0)),
    "web-memory-limit-bad": ("library_web_memory_limit", lambda: library(library_web_memory_limit="lots")),
    "db-memory-limit-zero": ("library_db_memory_limit", lambda: library(STAGING, library_db_memory_limit="0")),
    "proxy-memory-limit-unit": ("library_proxy_memory_limit", lambda: library(library_proxy_memory_limit="1t")),
    "proxy-pids-limit-bad": ("library_proxy_pids_limit", lambda: library(library_proxy_pids_limit=-1)),
    "web-pids-limit-text": ("library_web_pids_limit", lambda: library(library_web_pids_limit="many")),
    "db-pids-limit-zero": ("library_db_pids_limit", lambda: library(library_db_pids_limit=0)),
    "cache-memory-limit-bad": ("library_cache_memory_limit", lambda: library(STAGING, library_cache_memory_limit="256MB")),
    # Valkey's own needs and its maxmemory (3/4 of the limit) leave next to nothing below 32m.
    "cache-memory-limit-too-small": ("library_cache_memory_limit", lambda: library(library_cache_memory_limit="16m")),
    "cache-pids-limit-zero": ("library_cache_pids_limit", lambda: library(library_cache_pids_limit=0)),
    "ready-timeout-text": ("library_ready_timeout", lambda: library(library_ready_timeout="soon")),
    "health-seconds-zero": ("library_health_seconds", lambda: library(library_health_seconds=0)),
    # The app's own settings: only what its env file can carry (the app checks the values).
    "app-env-not-a-dict": ("library_app_env", lambda: library(library_app_env=["LIBRARY_MAX_OPEN_LOANS=5"])),
    "app-env-key-lowercase": ("library_app_env.max_open_loans", lambda: library(library_app_env={"max_open_loans": 5})),
    "app-env-value-quote": ("library_app_env.LOG_LEVEL", lambda: library(library_app_env={"LOG_LEVEL": "it's"})),
    "app-env-value-list": ("library_app_env.LIBRARY_THROTTLE_ANON", lambda: library(library_app_env={"LIBRARY_THROTTLE_ANON": [1]})),
    "app-env-reserved": ("library_app_env.DATABASE_URL", lambda: library(
        library_app_env={"DATABASE_URL": "postgres://x@y/z"}, library_app_env_reserved=["DATABASE_URL"])),
    # The engine, and what swarm needs of the inventory.
    "swarm-without-managers": ("managers", lambda: library(SWARM, groups={**SWARM_GROUPS, "managers": []})),
    "swarm-managers-not-library-hosts": (
        "managers", lambda: library(SWARM, groups={**SWARM_GROUPS, "managers": ["library-staging-1", "elsewhere"]})),
    "swarm-engines-differ": (
        "library_engine",
        lambda: library(SWARM, library_engine="compose", hosts={"library-staging-1": {"library_engine": "swarm"}})),
    "swarm-with-dumps": (
        "library_dump", lambda: library(SWARM, library_backup_repository_host="library-backup-staging-1", library_dump=True)),
    "swarm-two-database-nodes": (
        "swarm_node_labels",
        lambda: library(SWARM, hosts={host: {"swarm_node_labels": {"library.db": "true"}} for host in SWARM_GROUPS["library"]})),
    "swarm-no-database-node": ("swarm_node_labels", lambda: library(SWARM, hosts={})),
    "swarm-live-restore": ("docker_daemon_options", lambda: library(SWARM, docker_daemon_options={"live-restore": True})),
    "swarm-no-replicas": ("library_web_replicas", lambda: library(SWARM, library_web_replicas=0)),
}


@pytest.mark.parametrize(("name", "variable"), [(name, variable) for name, (variable, _) in BAD_LIBRARY.items()])
def test_a_bad_library_variable_is_named(name, variable):
    assert_names(BAD_LIBRARY[name][1](), variable)


BAD_BASE = {
    "deploy-user-upper-case": ("base_deploy_user", {"base_deploy_user": "Deploy"}),
    "authorized-key-not-a-key": ("base_deploy_authorized_keys", {"base_deploy_authorized_keys": ["AAAA"]}),
    "ssh-sources-empty": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": []}),
    "ssh-sources-hostname": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": ["ci.example.com"]}),
    "ssh-sources-bad-prefix": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": ["10.0.0.0/33"]}),
    "ssh-sources-string": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": "0.0.0.0/0"}),
    "ssh-sources-bool": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": [True]}),
    "tcp-port-out-of-range": ("base_firewall_tcp_ports", {"base_firewall_tcp_ports": [80, 70000]}),
    "tcp-port-text": ("base_firewall_tcp_ports", {"base_firewall_tcp_ports": ["http"]}),
    "udp-port-zero": ("base_firewall_udp_ports", {"base_firewall_udp_ports": [0]}),
    "ssh-port-text": ("base_firewall_ssh_port", {"base_firewall_ssh_port": "ssh"}),
    "ssh-port-bool": ("base_firewall_ssh_port", {"base_firewall_ssh_port": True}),
    "peer-sources-hostname": ("base_firewall_peer_sources", {"base_firewall_peer_sources": ["node-2"]}),
    "peer-tcp-port-too-high": ("base_firewall_peer_tcp_ports", {"base_firewall_peer_tcp_ports": [65536]}),
    "peer-udp-port-text": ("base_firewall_peer_udp_ports", {"base_firewall_peer_udp_ports": ["vxlan"]}),
    "interface-with-space": ("base_firewall_container_interfaces", {"base_firewall_container_interfaces": ["br 0"]}),
    "interface-too-long": ("base_firewall_container_interfaces", {"base_firewall_container_interfaces": ["b" * 16]}),
    "ci-key-with-options": ("base_deploy_ci_key", {"base_deploy_ci_key": 'from="1.2.3.4" ' + KEY}),
    "ci-key-not-a-key": ("base_deploy_ci_key", {"base_deploy_ci_key": "AAAAC3NzaC1lZDI1NTE5"}),
    "ci-key-from-hostname": ("base_deploy_ci_key_from", {"base_deploy_ci_key_from": ["runner.example.com"]}),
    "ci-key-and-ssh-open-to-anywhere": (
        "base_deploy_ci_key_from", {"base_deploy_ci_key_from": [], "base_firewall_ssh_sources": ["0.0.0.0/0", "::/0"]}),
    # Strictly true: "yes" from a command line is a string.
    "ci-key-anywhere-not-bool": (
        "base_deploy_ci_key_anywhere",
        {"base_deploy_ci_key_from": [], "base_firewall_ssh_sources": ["::/0"], "base_deploy_ci_key_anywhere": "yes"}),
    "admin-without-keys": ("base_admin_users", {"base_admin_users": [{"name": "ada"}]}),
    "admin-keys-string": ("base_admin_users", {"base_admin_users": [{"name": "ada", "keys": KEY}]}),
    "admin-key-not-a-key": ("base_admin_users", {"base_admin_users": [{"name": "ada", "keys": ["AAAA"]}]}),
    "admin-bad-name": ("base_admin_users", {"base_admin_users": [{"name": "Ada Lovelace", "keys": [KEY]}]}),
    "admin-without-name": ("base_admin_users", {"base_admin_users": [{"keys": [KEY]}]}),
    "admin-not-a-mapping": ("base_admin_users", {"base_admin_users": ["ada"]}),
    "admin-is-deploy-user": ("base_admin_users", {"base_admin_users": [{"name": "deploy", "keys": [KEY]}]}),
    "admin-twice": ("base_admin_users", {"base_admin_users": [{"name": "ada", "keys": [KEY]}] * 2}),
    "reboot-time-12h": ("base_upgrades_reboot_time", {"base_upgrades_reboot_time": "3:30am"}),
    "reboot-time-25h": ("base_upgrades_reboot_time", {"base_upgrades_reboot_time": "25:00"}),
    "reboot-not-bool": ("base_upgrades_reboot", {"base_upgrades_reboot": "at night"}),
    "firewall-not-bool": ("base_firewall", {"base_firewall": "off"}),
    "unattended-upgrades-not-bool": ("base_unattended_upgrades", {"base_unattended_upgrades": "no"}),
    "sudo-not-bool": ("base_deploy_sudo", {"base_deploy_sudo": 1}),
    "password-authentication-not-bool": ("base_ssh_password_authentication", {"base_ssh_password_authentication": "no"}),
}


@pytest.mark.parametrize(("name", "variable"), [(name, variable) for name, (variable, _) in BAD_BASE.items()])
def test_a_bad_host_variable_is_named(name, variable):
    assert_names(base(**BAD_BASE[name][1]), variable)


BAD_DOCKER = {
    "registry-with-scheme": ("docker_registry", {"docker_registry": "https://ghcr.io"}),
    "registry-with-path": ("docker_registry", {"docker_registry": "ghcr.io/example-org"}),
    "registry-ca-not-pem": ("docker_registry_ca_cert", {"docker_registry_ca_cert": "not a certificate"}),
    "registry-password-missing": ("docker_registry_password", {"docker_registry_password": DROP}),
    "registry-password-empty": ("docker_registry_password", {"docker_registry_password": ""}),
    # A swarm node's engine refuses to start with live-restore.
    "swarm-node-live-restore": (
        "docker_daemon_options", {"docker_swarm_node": True, "docker_daemon_options": {"live-restore": True}}),
}


@pytest.mark.parametrize(("name", "variable"), [(name, variable) for name, (variable, _) in BAD_DOCKER.items()])
def test_a_bad_docker_variable_is_named(name, variable):
    assert_names(docker(**BAD_DOCKER[name][1]), variable)


# ---- The wording operators read ------------------------------------------------------------------


def test_messages_say_why_and_how_to_fix():
    assert library(library_revision="") == ["library_revision is missing (give it: -e library_revision=<git sha>)"]
    assert library(library_revision="1.0:latest") == [
        'library_revision is not a valid image tag: "1.0:latest" (give it: -e library_revision=<git sha>)']
    assert library(library_caddy_image="caddy:latest") == [
        ('library_caddy_image must name an exact version or a digest (e.g. caddy:2.10.2@sha256:<digest>), not the'
        ' moving reference "caddy:latest" (how to pin: ansible/roles/library/defaults/main.yml)')]
    assert library(library_database_url=EXTERNAL_DB + "?sslmode=require&sslmode=disable") == [
        ("library_database_url must verify the server's certificate and name: add sslmode=verify-full"
        " (sslmode=require,disable), or opt out explicitly with library_database_tls_verify: false")]
    assert base(base_firewall_tcp_ports=[80, 70000]) == [
        "base_firewall_tcp_ports must be a list of port numbers 1-65535, not [80, 70000]"]
    assert base(base_firewall="off") == ["base_firewall must be true or false, not 'off'"]


def test_the_database_url_is_never_shown():
    """It holds a password."""
    for messages in (library(library_database_url=EXTERNAL_DB), library(library_database_ca_file=""),
                     library(library_database_url=EXTERNAL_DB.replace("postgres", "mysql"))):
        assert messages and not any("fake-test-only-password" in message for message in messages), messages


def test_every_bad_variable_is_reported_at_once():
    messages = library(library_revision="", library_keep_releases=0, library_max_body_bytes=1)
    assert [message.split()[0] for message in messages] == [
        "library_revision", "library_keep_releases", "library_max_body_bytes"]


def test_the_cache_limit_counts_in_units_of_1024():
    assert library(library_cache_memory_limit="32m") == []
    assert library(library_cache_memory_limit="1g") == []
    assert_names(library(library_cache_memory_limit="33554431"), "library_cache_memory_limit")
    assert_names(library(library_cache_memory_limit="32767k"), "library_cache_memory_limit")


# ---- Types and choices: the roles' argument specs ---------------------------------------------------


def spec_options(role: str) -> dict:
    spec = yaml.safe_load((ANSIBLE_DIR / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return spec["argument_specs"]["main"]["options"]


def spec_report(role: str, variables: dict) -> list[str]:
    """What the preflight reports for variables the role's spec refuses (as validate_argument_spec
    checks them)."""
    options = spec_options(role)
    values = {name: value for name, value in variables.items() if name in options}
    errors = ArgumentSpecValidator(options).validate(values, validate_role_argument_spec=True).error_messages
    return checks.report(role, errors, ["a check's message"])


SPEC_CASES = {
    "library-engine-unknown": ("library", "library_engine", {**STAGING, "library_engine": "nomad"}),
    "permit-root-login-unknown": ("base", "base_ssh_permit_root_login", {**BASE, "base_ssh_permit_root_login": "maybe"}),
    "sudo-log-format-unknown": ("base", "base_sudo_log_format", {**BASE, "base_sudo_log_format": "xml"}),
    "docker-install-source-unknown": ("docker", "docker_install_source", {**DOCKER, "docker_install_source": "snap"}),
    "docker-log-max-file-text": ("docker", "docker_log_max_file", {**DOCKER, "docker_log_max_file": "many"}),
    "docker-daemon-options-list": ("docker", "docker_daemon_options", {**DOCKER, "docker_daemon_options": ["x"]}),
}


@pytest.mark.parametrize(("name", "role", "variable"), [(n, r, v) for n, (r, v, _) in SPEC_CASES.items()])
def test_a_type_or_choice_the_spec_refuses_comes_alone_naming_the_variable(name, role, variable):
    messages = spec_report(role, SPEC_CASES[name][2])
    assert "a check's message" not in messages
    assert_names(messages, variable)


def test_without_spec_errors_the_checks_speak():
    assert spec_report("library", PRODUCTION) == ["a check's message"]


def test_bare_spec_errors_are_left_out_beside_those_naming_the_variable():
    bare = "dictionary requested, could not parse JSON or key=value"
    assert checks.report("docker", [bare, "docker_daemon_options: " + bare], []) == ["docker_daemon_options: " + bare]
    assert checks.report("docker", [bare], ["a check"]) == [bare]


@pytest.mark.parametrize("role", ["base", "docker", "library"])
def test_every_checked_variable_is_declared_in_the_argument_spec(role):
    """The preflight checks only variables a role declares (and so documents and validates)."""
    source = (ANSIBLE_DIR / "plugins" / "preflight_checks.py").read_text(encoding="utf-8")
    checked = set(re.findall(rf'"({role}_[a-z0-9_]+)"', source))
    assert checked
    # Or derived by the role itself (its vars/main.yml), as the names the stack sets.
    role_vars = ANSIBLE_DIR / "roles" / role / "vars" / "main.yml"
    derived = set(yaml.safe_load(role_vars.read_text(encoding="utf-8")) or {}) if role_vars.exists() else set()
    assert checked <= set(spec_options(role)) | derived, sorted(checked - set(spec_options(role)) - derived)
