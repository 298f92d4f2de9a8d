"""The host firewall (role base, nftables): from the machine that runs the lab (10.77.0.1),
SSH, 80 and 443 get through; a port opened by a stray container or by a process on the host
does not, though it answers inside the host; SSH only from the sources the lab allows."""

import json
import os
import socket
import subprocess
import time
import uuid

import pytest
import requests
from conftest import HOSTS, ROOT

# A dropped connection attempt times out; this bounds each probe.
PROBE_SECONDS = 3
STRAY_PORT = 9999
HOST_PROCESS_PORT = 8088
# The address the lab's SSH may come from (deploy/lab/group_vars/library/base.yml).
LAB_CONTROLLER = "10.77.0.1"


def probe(address, port):
    """'open', 'refused' (nothing listens, the firewall let it through) or 'timeout' (dropped)."""
    try:
        socket.create_connection((address, port), timeout=PROBE_SECONDS).close()
    except TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    return "open"


def wait_answers_inside(host, port, seconds=30):
    """Poll http://127.0.0.1:PORT/ on the host until it answers; fail naming the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if host.run(f"curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:{port}/").rc == 0:
            return
        time.sleep(1)
    pytest.fail(f"nothing answered on 127.0.0.1:{port} inside the host within {seconds}s")


def web_image(host):
    """An image the host already has, with python3: the running library web container's."""
    image = host.check_output(
        "sudo docker inspect --format '{{.Image}}' "
        "$(sudo docker ps -q --filter label=com.docker.compose.service=web)"
    ).split()
    assert image, "no running web container to borrow an image from"
    return image[0]


@pytest.mark.parametrize("port", [22, 80])
def test_ssh_and_http_connect(address, port):
    assert probe(address, port) == "open"


def test_https_port_not_dropped(address):
    # Plain-HTTP lab: nothing may listen on 443, but the firewall must not drop it.
    assert probe(address, 443) in ("open", "refused")


def test_firewall_loaded(host):
    with host.sudo():
        assert host.service("nftables").is_enabled
        ruleset = host.check_output("nft list table inet library_firewall")
    assert "hook input priority filter; policy drop;" in ruleset
    assert "hook forward priority filter; policy accept;" in ruleset


def test_stray_container_port_unreachable_from_outside(host, address):
    name = f"stacks-fw-probe-{uuid.uuid4().hex[:8]}"
    run = (
        f"sudo docker run -d --rm --name {name} -p {STRAY_PORT}:8000 --entrypoint python3 "
        f"{web_image(host)} -m http.server 8000"
    )
    host.check_output(run)
    try:
        assert_answers_inside_only(host, address, STRAY_PORT)
    finally:
        host.run(f"sudo docker rm -f {name}")


def assert_answers_inside_only(host, address, port):
    """The port answers on the host itself, and a connection from outside is dropped."""
    wait_answers_inside(host, port)
    assert probe(address, port) == "timeout"


def test_host_process_port_unreachable_from_outside(host, address):
    unit = f"stacks-fw-probe-{uuid.uuid4().hex[:8]}"
    host.check_output(
        f"sudo systemd-run --unit {unit} -p DynamicUser=yes -p RuntimeMaxSec=120 "
        f"python3 -m http.server {HOST_PROCESS_PORT} --directory /usr/share/doc"
    )
    try:
        assert_answers_inside_only(host, address, HOST_PROCESS_PORT)
    finally:
        host.run(f"sudo systemctl stop {unit}")


def test_ssh_only_from_allowed_sources(host, name):
    """The lab admits SSH from 10.77.0.1 only: from the other lab host it is dropped."""
    other = next(a for n, a in sorted(HOSTS.items()) if n != name)
    # bash's /dev/tcp: exit 0 = connected, 1 = refused, 124 = timed out (dropped).
    rc = host.run(f"timeout {PROBE_SECONDS} bash -c '</dev/tcp/{other}/22'").rc
    assert rc == 124, f"SSH from {name} to {other}: exit {rc} (allowed: {LAB_CONTROLLER} only)"


def test_restarting_the_firewall_keeps_dockers_rules(host, http, base_url):
    # Debian's unit stops with "nft flush ruleset", which would wipe Docker's tables too
    # (its port publishing and the containers' way out).
    host.check_output("sudo systemctl restart nftables")
    with host.sudo():
        assert host.run("nft list chain ip nat DOCKER").rc == 0, "Docker's nat rules are gone"
        assert host.check_output("nft list tables").count("library_firewall") == 1
    assert http(base_url + "/healthz").status_code == 200


def test_containers_reach_beyond_the_host(host):
    # The firewall leaves containers' outbound traffic alone: a container on Docker's default
    # bridge reaches the lab registry, another machine (masqueraded through the host).
    check = "import socket; socket.create_connection(('10.77.0.2', 5000), timeout=5).close()"
    r = host.run(f'sudo docker run --rm --entrypoint python3 {web_image(host)} -c "{check}"')
    assert r.rc == 0, r.stderr


def serves(http, base_url):
    try:
        return http(base_url + "/healthz").status_code == 200
    except requests.RequestException:
        return False


def test_firewall_survives_a_docker_restart(host, http, base_url):
    # Docker rebuilds its own chains when it starts; the firewall's table is not one of them.
    with host.sudo():
        before = host.check_output("nft list table inet library_firewall")
        host.check_output("systemctl restart docker")
        assert host.check_output("nft list table inet library_firewall") == before
    # Serving again, and every container's health known again, before the next checks.
    deadline = time.monotonic() + 90
    while (
        host.check_output("sudo docker ps -q --filter health=starting --filter health=unhealthy")
        or not serves(http, base_url)
    ):
        assert time.monotonic() < deadline, "not healthy and serving 90s after a Docker restart"
        time.sleep(1)


def firewall_play_in_check_mode(tmp_path, ssh_sources):
    """The role's firewall tasks on lab-1 in check mode (nothing is written) with the given
    base_firewall_ssh_sources; returns (exit code, output)."""
    play = tmp_path / "firewall.yml"
    play.write_text(
        "- hosts: lab-1\n  become: true\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: base\n        tasks_from: firewall\n"
    )
    root = ROOT
    r = subprocess.run(
        [root / ".venv/bin/ansible-playbook", "-i", root / "deploy/lab/inventory.yml", play, "--check",
         "-e", json.dumps({"base_firewall_ssh_sources": ssh_sources})],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(root / "ansible/ansible.cfg"),
             "ANSIBLE_ROLES_PATH": str(root / "ansible/roles"), "ANSIBLE_NOCOLOR": "1"},
    )
    return r.returncode, r.stdout + r.stderr


def test_play_refuses_a_firewall_that_would_lock_it_out(tmp_path):
    rc, output = firewall_play_in_check_mode(tmp_path, ["192.0.2.1"])
    assert rc != 0, output
    assert f"base_firewall_ssh_sources does not include {LAB_CONTROLLER}" in output, output


def test_play_accepts_a_firewall_that_admits_it(tmp_path):
    rc, output = firewall_play_in_check_mode(tmp_path, ["10.77.0.0/24"])
    assert rc == 0, output
