"""What a deployed library host must look like: engine, stack health, exposure, hardening,
and the service answering through the proxy from outside the host."""

import json
import socket

import pytest

COMPOSE_PROJECT = "library"  # `name:` in compose/compose.yaml
LONG_RUNNING = {"proxy", "web", "cache", "db"}
ONE_SHOT = {"migrate"}


def stack_containers(host):
    ids = host.check_output(
        f"sudo docker ps -a -q --filter label=com.docker.compose.project={COMPOSE_PROJECT}"
    ).split()
    assert ids, f"no container of compose project {COMPOSE_PROJECT!r} on the host"
    return json.loads(host.check_output("sudo docker inspect " + " ".join(ids)))


def service(container):
    return container["Config"]["Labels"]["com.docker.compose.service"]


def test_debian_13(host):
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.split(".")[0] == "13"


def test_docker_running_and_enabled(host):
    docker = host.service("docker")
    assert docker.is_running
    assert docker.is_enabled


def test_compose_v2(host):
    version = host.check_output("docker compose version --short")
    assert version.lstrip("v").split(".")[0] == "2", version


def test_stack_services_running_and_healthy(host):
    containers = stack_containers(host)
    running = {service(c) for c in containers if c["State"]["Running"]}
    assert LONG_RUNNING <= running, f"not running: {LONG_RUNNING - running}"
    for c in containers:
        name, state = service(c), c["State"]
        if name in ONE_SHOT:
            assert not state["Running"] and state["ExitCode"] == 0, f"{c['Name']}: {state}"
            continue
        assert state["Running"], f"{c['Name']} is {state['Status']}"
        assert "Health" in state, f"{c['Name']} has no healthcheck"
        assert state["Health"]["Status"] == "healthy", f"{c['Name']}: {state['Health']['Status']}"


def test_only_proxy_publishes_ports(host):
    for c in stack_containers(host):
        published = {
            port: bindings
            for port, bindings in (c["NetworkSettings"]["Ports"] or {}).items()
            if bindings
        }
        if service(c) == "proxy":
            assert "80/tcp" in published
        else:
            assert not published, f"{c['Name']} publishes {published}"


def test_port_80_listening(host):
    assert host.socket("tcp://0.0.0.0:80").is_listening or host.socket("tcp://:::80").is_listening


def test_postgres_not_listening_on_the_host(host):
    listening = [str(s) for s in host.socket.get_listening_sockets()]
    assert not [s for s in listening if s.endswith(":5432")], listening


def test_postgres_unreachable_from_outside(address):
    with pytest.raises(OSError):
        socket.create_connection((address, 5432), timeout=3).close()


def test_env_file_is_private(host):
    with host.sudo():
        env = host.file("/opt/library/.env")
        assert env.is_file
        assert env.mode == 0o600
        assert env.user == "root"


def test_password_ssh_off(host):
    config = host.check_output("sudo sshd -T")
    settings = dict(line.split(" ", 1) for line in config.splitlines() if " " in line)
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["permitrootlogin"] == "no"


def test_healthz(http, base_url):
    r = http(base_url + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz(http, base_url):
    r = http(base_url + "/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}


def test_version_is_the_deployed_image(http, base_url, host):
    web = [c for c in stack_containers(host) if service(c) == "web" and c["State"]["Running"]]
    assert web, "no running web container"
    # web runs the image by digest (repo@sha256:...); the image names its revision in a label.
    assert "@sha256:" in web[0]["Config"]["Image"], web[0]["Config"]["Image"]
    deployed_revision = web[0]["Config"]["Labels"]["org.opencontainers.image.revision"]
    r = http(base_url + "/version")
    assert r.status_code == 200
    assert r.json()["revision"] == deployed_revision


def test_book_list(http, base_url):
    r = http(base_url + "/api/v1/books/")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert isinstance(body.get("results", body), list)


def test_website(http, base_url):
    r = http(base_url + "/")
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
