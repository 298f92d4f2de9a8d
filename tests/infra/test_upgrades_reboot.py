"""Unattended upgrades' reboot window (role base; the lab turns it on), and a reboot of a lab
host (`docker restart` of its container is the lab's reboot): it comes back serving /readyz
through its proxy, with its firewall loaded, within a bounded time.

This file runs after the other host checks (alphabetical order) since it reboots lab-2."""

import os
import subprocess
import time

import requests
from conftest import HOSTS, SSH_CONFIG

REBOOTED = "lab-2"
CONTAINER = f"stacks-{REBOOTED}"
DOCKER = os.environ.get("DOCKER", "docker")  # restarts a container: any client
# Seconds from the reboot command until /readyz answers 200 again (measured: well under this).
SERVING_AGAIN_WITHIN = 240


def apt_config(host):
    """apt's merged configuration: {option: value} for the Unattended-Upgrade options."""
    dump = host.check_output("apt-config dump Unattended-Upgrade")
    return {
        key: value.strip('";')
        for key, value in (line.split(" ", 1) for line in dump.splitlines() if " " in line)
    }


def test_reboot_window_configured(host):
    config = apt_config(host)
    assert config.get("Unattended-Upgrade::Automatic-Reboot") == "true", config
    assert config.get("Unattended-Upgrade::Automatic-Reboot-Time") == "03:30", config


def readyz(url):
    try:
        return requests.get(url, timeout=3).status_code
    except requests.RequestException:
        return None


def test_rebooted_host_comes_back_serving():
    url = f"http://{HOSTS[REBOOTED]}/readyz"
    assert readyz(url) == 200, "not serving before the reboot"
    # The shared SSH connection to the host dies with it: close it first.
    subprocess.run(["ssh", "-F", str(SSH_CONFIG), "-O", "exit", REBOOTED],
                   capture_output=True, check=False, timeout=20)
    start = time.monotonic()
    subprocess.run([DOCKER, "restart", CONTAINER], check=True, capture_output=True, timeout=120)
    while readyz(url) != 200:
        took = time.monotonic() - start
        assert took < SERVING_AGAIN_WITHIN, f"{REBOOTED} not serving /readyz {took:.0f}s after reboot"
        time.sleep(1)
    print(f"{REBOOTED}: serving /readyz again {time.monotonic() - start:.1f}s after the reboot command")
    firewall = subprocess.run(
        ["ssh", "-F", str(SSH_CONFIG), REBOOTED, "sudo nft list table inet library_firewall"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert firewall.returncode == 0, f"firewall not loaded after the reboot: {firewall.stderr}"
    assert "policy drop" in firewall.stdout
