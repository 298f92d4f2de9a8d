"""The inventory preflight's checks (action plugin library_preflight): what a role's
meta/argument_specs.yml cannot say, such as patterns, ranges, strict true/false, rules across
variables and hosts, pinned images and vault values that must be there.

Each check takes the role's variables, already rendered, as a plain dict (a variable that could
not be rendered, such as one naming a missing vault key, is absent) and returns a list of
one-line messages, each naming the variable and saying why. Pure functions: tests import this
file directly."""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path

KEY_PATTERN = r"^(ssh-|ecdsa-|sk-)"
USER_PATTERN = r"^[a-z_][a-z0-9_-]{0,31}\Z"
REPOSITORY_PATTERN = (
    r"^([A-Za-z0-9.-]+(:[0-9]{1,5})?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*\Z"
)
IMAGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*\Z"
SIZE_PATTERN = r"^[1-9][0-9]*[bkmg]?\Z"
COUNT_PATTERN = r"^[1-9][0-9]*\Z"
DIGEST_PATTERN = r"@sha256:[0-9a-f]{64}\Z"
ANYWHERE = ("0.0.0.0/0", "::/0", "0.0.0.0", "::")
HOST_KEY_PATTERN = r"^[a-z0-9@.-]+ [A-Za-z0-9+/=]+$"
AGE_KEY_PATTERN = r"^age1[02-9ac-hj-np-z]{58}$"
PIN_HINT = "(how to pin: ansible/roles/library/defaults/main.yml)"


def _load_app_env():
    """filter_plugins/app_env.py, the env file's writer: its problems are the preflight's too."""
    spec = importlib.util.spec_from_file_location(
        "stacks_app_env", Path(__file__).resolve().parents[1] / "filter_plugins" / "app_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


APP_ENV = _load_app_env()


# ---- Helpers: how a value reads, as the messages and rules need it -------------------------


def text(value) -> str:
    """The value as text, "" when it is absent, null or empty (a blank `key:` in YAML is null)."""
    return str(value) if value else ""


def as_string(value) -> str:
    """The value as text, as written ("" when absent): for patterns that must see a 0 or False."""
    return "" if value is None else str(value)


def to_json(value) -> str:
    return json.dumps(value, default=str)


def matches(pattern: str, value) -> bool:
    return isinstance(value, str) and re.match(pattern, value) is not None


def is_list(value) -> bool:
    return isinstance(value, (list, tuple))


def is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_true(value) -> bool:
    """Ansible's bool filter: true, yes, on and 1 (any case) are true; anything else is false."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("yes", "on", "1", "true")


def true_or_false(value) -> bool:
    """A switch written true or false, in any case (a bool, or the text of one)."""
    return str(value).lower() in ("true", "false")


def flatten(items) -> list:
    flat = []
    for item in items:
        flat.extend(flatten(item) if is_list(item) else [item])
    return flat


def bad_networks(values) -> list:
    """The items that are not an IPv4/IPv6 address or CIDR network."""
    bad = []
    for value in values:
        try:
            ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            bad.append(value)
        else:
            if isinstance(value, bool):
                bad.append(value)
    return bad


def ports_valid(value) -> bool:
    return is_list(value) and all(is_integer(p) and 1 <= p <= 65535 for p in value)


def human_to_bytes(size: str) -> int:
    """A size matching SIZE_PATTERN ("512m") in bytes, units of 1024 as Ansible's filter counts."""
    units = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    if size[-1] in units:
        return int(size[:-1]) * units[size[-1]]
    return int(size)


# ---- base ---------------------------------------------------------------------------


def base_deploy_user(v) -> list[str]:
    user = v.get("base_deploy_user")
    if matches(r"^([a-z_][a-z0-9_-]{0,31})?\Z", user):
        return []
    return [f"base_deploy_user is not a valid user name: {user}"]


def base_authorized_keys(v) -> list[str]:
    keys = v.get("base_deploy_authorized_keys")
    if is_list(keys) and all(matches(KEY_PATTERN, key) for key in keys):
        return []
    return ["base_deploy_authorized_keys must be a list of public keys (ssh-ed25519 AAAA..., ssh-rsa ...)"]


def base_networks(v) -> list[str]:
    problems = []
    sources = v.get("base_firewall_ssh_sources")
    if not is_list(sources) or not sources or bad_networks(sources):
        problems.append(
            'base_firewall_ssh_sources must be a non-empty list of IP addresses or CIDR networks'
            f' (["0.0.0.0/0", "::/0"] = anywhere); not valid: {sources}')
    for name in ("base_firewall_peer_sources", "base_deploy_ci_key_from"):
        value = v.get(name)
        if not is_list(value) or bad_networks(value):
            problems.append(f"{name} must be a list of IP addresses or CIDR networks, not {value}")
    return problems


def base_ports(v) -> list[str]:
    problems = [
        f"{name} must be a list of port numbers 1-65535, not {v.get(name)}"
        for name in ("base_firewall_tcp_ports", "base_firewall_udp_ports") if not ports_valid(v.get(name))
    ]
    tcp, udp = v.get("base_firewall_peer_tcp_ports"), v.get("base_firewall_peer_udp_ports")
    if not (ports_valid(tcp) and ports_valid(udp)):
        problems.append("base_firewall_peer_tcp_ports and base_firewall_peer_udp_ports must be lists of"
                        f" port numbers 1-65535, not {tcp} and {udp}")
    port = v.get("base_firewall_ssh_port")
    if not (is_integer(port) and 1 <= port <= 65535):
        problems.append(f"base_firewall_ssh_port must be a port number 1-65535, not {port}")
    return problems


def base_container_interfaces(v) -> list[str]:
    names = v.get("base_firewall_container_interfaces")
    if is_list(names) and all(matches(r"^[A-Za-z0-9_.*-]{1,15}\Z", name) for name in names):
        return []
    return [f"base_firewall_container_interfaces must be a list of interface names (wildcard *), not {names}"]


def base_ci_key(v) -> list[str]:
    problems = []
    key = v.get("base_deploy_ci_key")
    sources = v.get("base_firewall_ssh_sources")
    # One leaked CI key must not be root on every host from anywhere: SSH open to anywhere and
    # a CI key usable from anywhere together only when base_deploy_ci_key_anywhere says so.
    if (key and not v.get("base_deploy_ci_key_from")
            and is_list(sources) and any(source in ANYWHERE for source in sources)
            and v.get("base_deploy_ci_key_anywhere") is not True):
        problems.append(
            "base_deploy_ci_key logs in from anywhere (base_deploy_ci_key_from is empty) while SSH is open"
            " to anywhere (base_firewall_ssh_sources): narrow one of them, or set"
            " base_deploy_ci_key_anywhere: true to accept it")
    if not matches(r"^((ssh-|ecdsa-|sk-)\S+ \S+( [^\n]*)?)?\Z", key):
        problems.append('base_deploy_ci_key must be one public key without options (ssh-ed25519 AAAA...) or ""')
    return problems


def admin_users_valid(users, deploy_user) -> bool:
    if not is_list(users) or not all(isinstance(user, Mapping) for user in users):
        return False
    names = [user.get("name", "") for user in users]
    if not all(matches(USER_PATTERN, name) for name in names):
        return False
    if len(set(names)) != len(names) or deploy_user in names:
        return False
    keys = [user.get("keys", "") for user in users]
    return all(is_list(k) for k in keys) and all(matches(KEY_PATTERN, key) for key in flatten(keys))


def base_admin_users(v) -> list[str]:
    if admin_users_valid(v.get("base_admin_users"), v.get("base_deploy_user")):
        return []
    return [("base_admin_users must be a list of {name: a unique user name other than the deploy user,"
            " keys: [public keys (ssh-ed25519 AAAA...)]}")]


def base_reboot_time(v) -> list[str]:
    time = v.get("base_upgrades_reboot_time")
    if matches(r"^(now|([01][0-9]|2[0-3]):[0-5][0-9])\Z", time):
        return []
    return [f"base_upgrades_reboot_time must be \"HH:MM\" (24-hour) or \"now\", not '{time}'"]


def base_switches(v) -> list[str]:
    # Strictly true or false: "off" or "no" from a command line is a string, not a switch.
    names = ("base_firewall", "base_unattended_upgrades", "base_upgrades_reboot", "base_deploy_sudo",
             "base_ssh_password_authentication")
    return [f"{name} must be true or false, not '{v.get(name)}'"
            for name in names if not isinstance(v.get(name), bool)]


BASE_CHECKS = (base_deploy_user, base_authorized_keys, base_networks, base_ports, base_container_interfaces,
               base_ci_key, base_admin_users, base_reboot_time, base_switches)


# ---- docker -------------------------------------------------------------------------


def docker_registry(v) -> list[str]:
    problems = []
    registry = v.get("docker_registry")
    if not matches(r"^([A-Za-z0-9.-]+(:[0-9]{1,5})?)?\Z", registry):
        problems.append(f"docker_registry must be host[:port] without a scheme or path, not '{registry}'")
    ca_cert = text(v.get("docker_registry_ca_cert"))
    if ca_cert and "-----BEGIN CERTIFICATE-----" not in ca_cert:
        problems.append("docker_registry_ca_cert must be PEM text (-----BEGIN CERTIFICATE-----...)")
    if text(v.get("docker_registry_username")) and not text(v.get("docker_registry_password")):
        problems.append("docker_registry_password is required when docker_registry_username is set")
    return problems


def docker_swarm_node(v) -> list[str]:
    options = v.get("docker_daemon_options")
    if (v.get("docker_swarm_node") is True and isinstance(options, Mapping)
            and options.get("live-restore", False)):
        return ["docker_daemon_options sets live-restore, which a swarm node's engine refuses to start with"]
    return []


DOCKER_CHECKS = (docker_registry, docker_swarm_node)


# ---- library ------------------------------------------------------------------------


def library_release(v) -> list[str]:
    problems = []
    revision = text(v.get("library_revision"))
    if not matches(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z", revision):
        what = "missing" if not revision else "not a valid image tag: " + to_json(revision)
        problems.append(f"library_revision is {what} (give it: -e library_revision=<git sha>)")
    repository = text(v.get("library_image_repository"))
    if not matches(REPOSITORY_PATTERN, repository):
        what = "missing" if not repository else "not an image repository without tag: " + to_json(repository)
        problems.append(f"library_image_repository is {what} (e.g. ghcr.io/example-org/library)")
    return problems


# (variable, pattern of an exact version, example): a moving tag (postgres:17, caddy:2, latest)
# lets a host pull different bytes than the one before it; an exact version, better with its
# digest, keeps every host on the same image. PostgreSQL's minor release (17.6) is its exact version.
THIRD_PARTY_IMAGES = (
    ("library_postgres_image", r"^[0-9]+\.[0-9]+(-[A-Za-z0-9._-]+)?\Z", "postgres:17.6-trixie"),
    ("library_caddy_image", r"^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9._-]+)?\Z", "caddy:2.10.2"),
    ("library_valkey_image", r"^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9._-]+)?\Z", "valkey/valkey:8.1.11-trixie"),
)


def image_tag(reference: str) -> str:
    """The tag of an image reference ("" when it has none): registry ports and digests are not tags."""
    name = reference.split("@")[0].split("/")[-1]
    return name.split(":")[1] if ":" in name else ""


def library_images(v) -> list[str]:
    problems = []
    pin = v.get("library_pin_third_party_images")
    for name, _, _ in THIRD_PARTY_IMAGES:
        reference = text(v.get(name))
        if not matches(IMAGE_PATTERN, reference):
            problems.append(f"{name} is missing or not an image reference: '{reference}'")
    if not true_or_false(pin):
        problems.append(f"library_pin_third_party_images must be true or false, not {to_json(pin)}")
    if str(pin).lower() != "true":
        return problems
    for name, version, example in THIRD_PARTY_IMAGES:
        reference = text(v.get(name))
        if not re.search(DIGEST_PATTERN, reference) and not re.match(version, image_tag(reference)):
            problems.append(f"{name} must name an exact version or a digest (e.g. {example}@sha256:<digest>),"
                            f" not the moving reference {to_json(reference)} {PIN_HINT}")
    return problems


def has_quote_or_newline(value: str) -> bool:
    return re.search("['\n\r]", value) is not None


def library_secret_key(v) -> list[str]:
    key = text(v.get("library_secret_key"))
    if len(key) < 32 or has_quote_or_newline(key):
        return [("library_secret_key is missing, shorter than 32 characters or contains a quote/newline"
                " (set vault_library_secret_key in the vaulted vault.yml)")]
    return []


def external_db_verified(v) -> bool:
    """An external database must verify TLS unless explicitly opted out."""
    return bool(text(v.get("library_database_url"))) and str(v.get("library_database_tls_verify")).lower() == "true"


def library_database_url(v) -> list[str]:
    problems = []
    url = text(v.get("library_database_url"))
    if "library_database_url" not in v or (url and not matches(r"^postgres(ql)?://[^\s']+\Z", url)):
        problems.append("library_database_url must be empty (bundled db) or postgres://USER:PASSWORD@HOST:PORT/NAME")
    verify = v.get("library_database_tls_verify")
    if not true_or_false(verify):
        problems.append(f"library_database_tls_verify must be true or false, not {to_json(verify)}")
    # An external database is reached over networks we do not own: without verify-full, anyone on
    # the path can present a certificate (require) or read the traffic (disable, prefer, allow).
    # The message never shows the URL: it holds a password. The last sslmode wins in the app's
    # URL parser, so every one must be verify-full.
    modes = re.findall(r"[?&]sslmode=([^&#]*)", url)
    if external_db_verified(v) and modes != ["verify-full"]:
        found = "sslmode=" + ",".join(modes) if modes else "it has no sslmode"
        problems.append("library_database_url must verify the server's certificate and name: add"
                        f" sslmode=verify-full ({found}), or opt out explicitly with library_database_tls_verify: false")
    return problems


def is_pem_certificate_file(path: str) -> bool:
    file = Path(path)
    return file.is_file() and "-----BEGIN CERTIFICATE-----" in file.read_text(encoding="utf-8", errors="replace")


def library_database_ca(v) -> list[str]:
    # The role mounts the CA and names it in the URL: the URL must not point elsewhere.
    ca = text(v.get("library_database_ca_file"))
    url = text(v.get("library_database_url"))
    if not external_db_verified(v):
        return []
    if ca and is_pem_certificate_file(ca) and not re.search(r"[?&]sslrootcert=", url):
        return []
    shown = ", not " + to_json(ca) if ca else ""
    return [("library_database_ca_file must be the PEM CA bundle (on the controller) that signed the external"
            f" database's certificate{shown}, and library_database_url must not name its own sslrootcert"
            " (the role sets it to that file)")]


def library_db_passwords(v) -> list[str]:
    problems = []
    bundled = not text(v.get("library_database_url"))
    password = text(v.get("library_db_password"))
    if (bundled and len(password) < 12) or has_quote_or_newline(password):
        problems.append("library_db_password is missing, shorter than 12 characters or contains a quote/newline"
                        " (set vault_library_db_password in the vaulted vault.yml, or give library_database_url)")
    superuser = text(v.get("library_db_superuser_password"))
    if (bundled and (len(superuser) < 12 or superuser == password)) or has_quote_or_newline(superuser):
        problems.append("library_db_superuser_password is missing, shorter than 12 characters, equal to"
                        " library_db_password or contains a quote/newline"
                        " (set vault_library_db_superuser_password in the vaulted vault.yml)")
    return problems


def library_domain(v, library_hosts) -> list[str]:
    problems = []
    domain = text(v.get("library_domain"))
    certificate = text(v.get("library_tls_certificate"))
    key = text(v.get("library_tls_key"))
    if not matches(r"^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62})?\Z", domain):
        problems.append(f"library_domain must be empty or a lower-case DNS name, not {to_json(v.get('library_domain'))}")
    # ACME's HTTP-01 challenge reaches whichever host DNS names: with several hosts behind one
    # domain, each host's own certificate request may be answered by another.
    if domain and not certificate and len(library_hosts) > 1:
        problems.append(f"library_tls_certificate is empty while {len(library_hosts)} hosts serve {domain}:"
                        " give them one certificate (library_tls_certificate, vaulted library_tls_key,"
                        ' e.g. from DNS-01) or end TLS at a load balancer and set library_domain to ""')
    both_pem = (re.match(r"\s*-----BEGIN CERTIFICATE-----", certificate)
                and re.match(r"\s*-----BEGIN [A-Z ]*PRIVATE KEY-----", key))
    if not ((not certificate and not key) or both_pem):
        problems.append("library_tls_certificate and library_tls_key must both be PEM (a certificate and"
                        " a private key) or both be empty")
    email = as_string(v.get("library_acme_email"))
    if email and (not matches(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\Z", email)
                  or not domain or certificate):
        problems.append(f"library_acme_email '{email}' must be an email address, and is used only with"
                        " library_domain and no library_tls_certificate")
    return problems


def library_allowed_hosts(v) -> list[str]:
    hosts = v.get("library_allowed_hosts")
    if is_list(hosts) and hosts and all(matches(r"^[A-Za-z0-9.:\[\]*_-]+\Z", host) for host in hosts):
        return []
    return [f"library_allowed_hosts must be a non-empty list of host names or addresses, not {hosts}"]


def library_admin(v) -> list[str]:
    if text(v.get("library_admin_username")) and (
            len(text(v.get("library_admin_password"))) < 12
            or not matches(r"^[^@\s]+@[^@\s]+\Z", text(v.get("library_admin_email")))):
        return [("library_admin_password (12+ characters: the app's password validators refuse a shorter one)"
                " and library_admin_email are required when library_admin_username is set")]
    return []


# Limits: a size or a count, so compose never starts a service without one.
LIMITS = (
    ("library_web_memory_limit", SIZE_PATTERN, "a size such as 512m"),
    ("library_db_memory_limit", SIZE_PATTERN, "a size such as 1g"),
    ("library_proxy_memory_limit", SIZE_PATTERN, "a size such as 256m"),
    ("library_cache_memory_limit", SIZE_PATTERN, "a size such as 256m"),
    ("library_web_pids_limit", COUNT_PATTERN, "a positive integer"),
    ("library_db_pids_limit", COUNT_PATTERN, "a positive integer"),
    ("library_proxy_pids_limit", COUNT_PATTERN, "a positive integer"),
    ("library_cache_pids_limit", COUNT_PATTERN, "a positive integer"),
)


def library_limits(v) -> list[str]:
    problems = [f"{name} must be {what}, not {to_json(v.get(name))}"
                for name, pattern, what in LIMITS if not matches(pattern, as_string(v.get(name)))]
    # Valkey itself needs about 10 MB and keeps its data to 3/4 of the limit (maxmemory): below
    # 32m it would hold next to nothing, or be killed by the kernel before it evicts a key.
    cache = as_string(v.get("library_cache_memory_limit"))
    if matches(SIZE_PATTERN, cache) and human_to_bytes(cache) < 32 * 1024**2:
        problems.append("library_cache_memory_limit must be at least 32m (Valkey needs about 10 MB itself and"
                        f" keeps its data to 3/4 of the limit), not {to_json(v.get('library_cache_memory_limit'))}")
    return problems


def library_app_settings(v) -> list[str]:
    # The app's own settings (library_app_env) are the app's to check: a bad value stops the new
    # web with the app's one line, which the deploy reports. Here: what the env file can carry.
    problems = APP_ENV.app_env_problems(v.get("library_app_env", {}), v.get("library_app_env_reserved", []))
    if not matches(COUNT_PATTERN, as_string(v.get("library_keep_releases"))):
        problems.append("library_keep_releases must be a whole number of 1 or more,"
                        f" not {to_json(v.get('library_keep_releases'))}")
    body = as_string(v.get("library_max_body_bytes"))
    if not matches(COUNT_PATTERN, body) or int(body) < 1024:
        problems.append("library_max_body_bytes must be a whole number of bytes, 1024 or more,"
                        f" not {to_json(v.get('library_max_body_bytes'))}")
    if not all(matches(COUNT_PATTERN, as_string(v.get(name)))
               for name in ("library_ready_timeout", "library_health_seconds")):
        problems.append("library_ready_timeout and library_health_seconds must be positive integers")
    return problems


def swarm_problem(v, groups, hosts) -> str:
    """What swarm needs of the inventory, first problem only ("" when none): each rule assumes
    the ones before it hold."""
    library = list(groups.get("library", []))
    managers = list(groups.get("managers", []))
    if not set(managers) & set(library):
        return ("library_engine swarm needs the swarm's managers: put one library host (three for a quorum)"
                " in inventory group managers")
    strangers = [host for host in managers if host not in library]
    if strangers:
        return f"group managers holds hosts that are not library hosts: {', '.join(strangers)}"
    if text(v.get("library_backup_repository_host")) and is_true(v.get("library_dump", False)):
        return ("library_engine swarm takes no logical dumps (library_dump): set it to false (the bundled"
                " database's continuous backups work with swarm; an external database is backed up by its provider)")
    db_nodes = [host for host in library
                if str((hosts.get(host, {}).get("swarm_node_labels") or {}).get("library.db")) == "true"]
    if not text(v.get("library_database_url")) and len(db_nodes) != 1:
        return ('library_engine swarm with the bundled database needs exactly one library host with'
                ' swarm_node_labels {"library.db": "true"} (the node that keeps its volume)')
    options = v.get("docker_daemon_options") or {}
    if isinstance(options, Mapping) and options.get("live-restore"):
        return ("docker_daemon_options sets live-restore, which a swarm node's engine refuses"
                " (library_engine swarm)")
    if not matches(COUNT_PATTERN, as_string(v.get("library_web_replicas"))):
        return f"library_web_replicas must be a whole number of 1 or more, not {to_json(v.get('library_web_replicas'))}"
    return ""


def library_engine(v, groups, hosts) -> list[str]:
    """The engine: one for every library host; swarm's managers, database node and backups."""
    engines = {hosts.get(host, {}).get("library_engine", "compose") for host in groups.get("library", [])}
    if len(engines) > 1:
        return ["library_engine differs between library hosts: set it once for all (group_vars/library)"]
    if v.get("library_engine") != "swarm":
        return []
    problem = swarm_problem(v, groups, hosts)
    return [problem] if problem else []


def backup_problem(v, library_hosts) -> str:
    """The backup repository: another host, reachable with a key and known host keys (first
    problem only, "" when none)."""
    host = text(v.get("library_backup_repository_host"))
    bundled = not text(v.get("library_database_url"))
    dump = is_true(v.get("library_dump", False))
    if host in library_hosts:
        return f"library_backup_repository_host {host} is a library host: backups must live on another host"
    if bundled and len(text(v.get("library_backup_cipher_pass"))) < 32:
        return ("library_backup_cipher_pass is missing or shorter than 32 characters (the passphrase the backups"
                " are encrypted with; keep it in the vault, and a copy apart)")
    host_keys = v.get("library_backup_repository_host_keys") or []
    if not host_keys or not all(matches(HOST_KEY_PATTERN, key) for key in host_keys):
        return (f"library_backup_repository_host_keys must list {host}'s SSH host keys as \"type base64\""
                f' (e.g. "ssh-ed25519 AAAA..."), not {to_json(host_keys)}')
    if not matches(COUNT_PATTERN, as_string(v.get("library_backup_archive_timeout"))):
        return "library_backup_archive_timeout must be a positive integer"
    recipients = v.get("library_dump_age_recipients", [])
    if dump and not (is_list(recipients) and recipients
                     and all(matches(AGE_KEY_PATTERN, key) for key in recipients)):
        return ('library_dump_age_recipients must list the age public keys ("age1...") the dumps are'
                f" encrypted to, not {to_json(recipients)}")
    return ""


def library_backups(v, library_hosts) -> list[str]:
    # Backups are taken of the bundled database, or dumped from an external one.
    if not text(v.get("library_backup_repository_host")):
        return []
    if text(v.get("library_database_url")) and not is_true(v.get("library_dump", False)):
        return []
    problem = backup_problem(v, library_hosts)
    return [problem] if problem else []


def library_problems(v, groups, hosts) -> list[str]:
    """Every problem of the library variables. groups: the inventory's groups; hosts: each
    library host's own library_engine and swarm_node_labels (where set)."""
    library_hosts = list(groups.get("library", []))
    return [
        *library_release(v), *library_images(v), *library_secret_key(v), *library_database_url(v),
        *library_database_ca(v), *library_db_passwords(v), *library_domain(v, library_hosts),
        *library_allowed_hosts(v), *library_admin(v), *library_limits(v), *library_app_settings(v),
        *library_engine(v, groups, hosts), *library_backups(v, library_hosts),
    ]


def base_problems(v) -> list[str]:
    return [problem for check in BASE_CHECKS for problem in check(v)]


def docker_problems(v) -> list[str]:
    return [problem for check in DOCKER_CHECKS for problem in check(v)]


def report(role: str, spec_errors: list[str], problems: list[str]) -> list[str]:
    """What the operator reads. The spec's errors come alone: the checks add what a spec cannot
    say. The validator repeats some errors bare ("dictionary requested, ...") beside the one
    naming the variable: only those naming it are shown (all of them if none does)."""
    naming = [error for error in spec_errors if f"{role}_" in error]
    return naming or list(spec_errors) or problems
