"""How the stack's containers run on a lab host: every service without new privileges, with
all capabilities dropped but the few its image needs, a read-only root, and a memory and
process limit; the app image by the digest the deploy pulled and recorded.

The long-running services are checked as running containers (docker inspect); migrate is a
one-shot removed after each run, so it is checked as compose would start it (compose config
of /opt/library, the same settings)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import compose_containers

ROOT = Path(__file__).resolve().parents[2]
ROLE_DEFAULTS = ROOT / "ansible/roles/library/defaults/main.yml"
LAB_VARS = ROOT / "deploy/lab/group_vars/library/library.yml"

# service -> capabilities added back after cap_drop ALL (the minimum its image needs).
CAP_ADD = {
    "proxy": {"NET_BIND_SERVICE"},  # Caddy's binary carries it as a file capability
    "web": set(),
    "migrate": set(),
    "db": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"},  # entrypoint, then drops
    "cache": set(),  # started as the image's valkey user: nothing to change or drop
}
# service -> the role variables of its limits (migrate runs the web image with web's).
LIMITS = {
    "proxy": ("library_proxy_memory_limit", "library_proxy_pids_limit"),
    "web": ("library_web_memory_limit", "library_web_pids_limit"),
    "migrate": ("library_web_memory_limit", "library_web_pids_limit"),
    "db": ("library_db_memory_limit", "library_db_pids_limit"),
    "cache": ("library_cache_memory_limit", "library_cache_pids_limit"),
}
UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
CAP_NET_BIND_SERVICE = 1 << 10


def setting(name):
    """A role variable as the lab deploys it: the lab's group_vars, else the role default."""
    for path in (LAB_VARS, ROLE_DEFAULTS):
        values = yaml.safe_load(path.read_text())
        if name in values:
            return values[name]
    raise KeyError(name)


def size_in_bytes(value):
    match = re.fullmatch(r"([0-9]+)([bkmg]?)", str(value))
    assert match, value
    return int(match[1]) * UNITS[match[2] or "b"]


RUNNING = ["db", "proxy", "web", "cache"]


@pytest.fixture(scope="module")
def containers(host):
    """{service: docker inspect} of the stack's running containers."""
    by_service = compose_containers(host)
    assert set(RUNNING) <= set(by_service), sorted(by_service)
    return by_service


@pytest.fixture(scope="module")
def migrate(host):
    """The migrate service as `docker compose run migrate` starts it on the host."""
    out = host.check_output("sudo sh -c 'cd /opt/library && docker compose config --format json'")
    return json.loads(out)["services"]["migrate"]


def caps(names):
    return {name.upper().removeprefix("CAP_") for name in names or []}


@pytest.mark.parametrize("service", RUNNING)
def test_no_new_privileges(containers, service):
    assert "no-new-privileges:true" in containers[service]["HostConfig"]["SecurityOpt"]


@pytest.mark.parametrize("service", RUNNING)
def test_all_capabilities_dropped_but_the_minimum(containers, service):
    config = containers[service]["HostConfig"]
    assert caps(config["CapDrop"]) == {"ALL"}, config["CapDrop"]
    assert caps(config["CapAdd"]) == CAP_ADD[service], config["CapAdd"]
    assert not config["Privileged"]


@pytest.mark.parametrize("service", RUNNING)
def test_read_only_root(containers, service):
    assert containers[service]["HostConfig"]["ReadonlyRootfs"] is True


@pytest.mark.parametrize("service", RUNNING)
def test_memory_and_pids_limits(containers, service):
    config = containers[service]["HostConfig"]
    memory, pids = LIMITS[service]
    assert config["Memory"] == size_in_bytes(setting(memory)), (memory, config["Memory"])
    assert config["PidsLimit"] == int(setting(pids)), (pids, config["PidsLimit"])


def test_migrate_gets_the_same_treatment(migrate):
    assert "no-new-privileges:true" in migrate["security_opt"]
    assert caps(migrate["cap_drop"]) == {"ALL"} and caps(migrate.get("cap_add")) == CAP_ADD["migrate"]
    assert migrate["read_only"] is True
    memory, pids = LIMITS["migrate"]
    assert int(migrate["mem_limit"]) == size_in_bytes(setting(memory)), migrate["mem_limit"]
    assert int(migrate["pids_limit"]) == int(setting(pids)), migrate["pids_limit"]


def status_of_pid1(host, container):
    """/proc/1/status of a running container as {field: value}."""
    out = host.check_output(f"sudo docker exec {container['Name'].lstrip('/')} cat /proc/1/status")
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


@pytest.mark.parametrize("service", RUNNING)
def test_running_process_holds_only_the_minimum(host, containers, service):
    status = status_of_pid1(host, containers[service])
    assert status["NoNewPrivs"].strip() == "1"
    effective = int(status["CapEff"], 16)
    # web runs as its own user, the db server as "postgres" (the entrypoint dropped root) and
    # the cache as "valkey": no capability left. Caddy runs as root with only the one to bind
    # 80/443.
    expected = CAP_NET_BIND_SERVICE if service == "proxy" else 0
    assert effective == expected, f"{service}: CapEff {status['CapEff'].strip()}"


@pytest.mark.parametrize("service", RUNNING)
def test_root_filesystem_refuses_writes(host, containers, service):
    name = containers[service]["Name"].lstrip("/")
    # As root inside the container: even it cannot write the image's files.
    result = host.run(f"sudo docker exec --user 0 {name} sh -c 'echo x > /usr/local/written'")
    assert result.rc != 0
    assert "Read-only file system" in result.stderr, result.stderr


def releases(host):
    """/opt/library/releases.log: one JSON object a line, oldest first."""
    with host.sudo():
        return [json.loads(line) for line in host.file("/opt/library/releases.log").content_string.splitlines()
                if line.strip()]


def test_web_and_migrate_run_the_recorded_digest(host, containers, migrate):
    repository = setting("library_image_repository")
    image = containers["web"]["Config"]["Image"]
    assert re.fullmatch(re.escape(repository) + r"@sha256:[0-9a-f]{64}", image), image
    assert migrate["image"] == image
    last = releases(host)[-1]
    # The last release is a deploy that took, someone made it, and its digest is the image web runs.
    assert (last["result"], last["kind"]) == ("ok", "deploy"), last
    assert last["deployer"], last
    assert image == f"{repository}@{last['digest']}", (image, last)
    # ... and it is the revision the deploy asked for.
    labels = containers["web"]["Config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == last["revision"], (labels, last)
