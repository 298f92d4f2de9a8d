"""Preflight of the host variables (role base: firewall, deploy user, admins, reboot window):
each bad value fails before any host is touched, with one line naming the variable (read from
the JSON report; test_preflight.py checks that line in the operator's output)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from ansible_helpers import Case, CaseRun, run_case, write_password_file

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample x@example.invalid"

VALID = {
    "restricted-everything": Case("production", extra_vars={
        "base_firewall_ssh_sources": ["192.0.2.10", "198.51.100.0/24", "2001:db8::/32"],
        "base_firewall_udp_ports": [443],
        "base_firewall_peer_sources": ["10.0.0.2", "10.0.1.0/24", "2001:db8:1::/64"],
        "base_deploy_ci_key": KEY,
        "base_deploy_ci_key_from": ["192.0.2.10", "2001:db8::1"],
        "base_admin_users": [{"name": "ada", "keys": [KEY]}],
        "base_upgrades_reboot": True,
        "base_upgrades_reboot_time": "04:15",
    }),
}

# id -> (variable the message must name, extra vars on the production example)
BAD = {
    "ssh-sources-empty": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": []}),
    "ssh-sources-hostname": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": ["ci.example.com"]}),
    "ssh-sources-bad-prefix": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": ["10.0.0.0/33"]}),
    "ssh-sources-string": ("base_firewall_ssh_sources", {"base_firewall_ssh_sources": "0.0.0.0/0"}),
    "tcp-port-out-of-range": ("base_firewall_tcp_ports", {"base_firewall_tcp_ports": [80, 70000]}),
    "tcp-port-text": ("base_firewall_tcp_ports", {"base_firewall_tcp_ports": ["http"]}),
    "udp-port-zero": ("base_firewall_udp_ports", {"base_firewall_udp_ports": [0]}),
    "ssh-port-text": ("base_firewall_ssh_port", {"base_firewall_ssh_port": "ssh"}),
    "peer-sources-hostname": ("base_firewall_peer_sources", {"base_firewall_peer_sources": ["node-2"]}),
    "peer-udp-port-text": ("base_firewall_peer_udp_ports", {"base_firewall_peer_udp_ports": ["vxlan"]}),
    "interface-with-space": ("base_firewall_container_interfaces", {"base_firewall_container_interfaces": ["br 0"]}),
    "ci-key-with-options": ("base_deploy_ci_key", {"base_deploy_ci_key": 'from="1.2.3.4" ' + KEY}),
    "ci-key-not-a-key": ("base_deploy_ci_key", {"base_deploy_ci_key": "AAAAC3NzaC1lZDI1NTE5"}),
    "ci-key-from-hostname": ("base_deploy_ci_key_from", {"base_deploy_ci_key_from": ["runner.example.com"]}),
    "admin-without-keys": ("base_admin_users", {"base_admin_users": [{"name": "ada"}]}),
    "admin-keys-string": ("base_admin_users", {"base_admin_users": [{"name": "ada", "keys": KEY}]}),
    "admin-bad-name": ("base_admin_users", {"base_admin_users": [{"name": "Ada Lovelace", "keys": [KEY]}]}),
    "admin-is-deploy-user": ("base_admin_users", {"base_admin_users": [{"name": "deploy", "keys": [KEY]}]}),
    "admin-twice": ("base_admin_users", {"base_admin_users": [{"name": "ada", "keys": [KEY]}] * 2}),
    "reboot-time-12h": ("base_upgrades_reboot_time", {"base_upgrades_reboot_time": "3:30am"}),
    "reboot-time-25h": ("base_upgrades_reboot_time", {"base_upgrades_reboot_time": "25:00"}),
    "reboot-not-bool": ("base_upgrades_reboot", {"base_upgrades_reboot": "at night"}),
    "firewall-not-bool": ("base_firewall", {"base_firewall": "off"}),
    "sudo-log-format-unknown": ("base_sudo_log_format", {"base_sudo_log_format": "xml"}),
}


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, CaseRun]:
    cases = {**VALID, **{name: Case("production", extra_vars=extra) for name, (_, extra) in BAD.items()}}
    base = tmp_path_factory.mktemp("preflight-hosts")
    password_file = write_password_file(tmp_path_factory.mktemp("vault") / "password")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_case, case, base / name, password_file) for name, case in cases.items()}
        return {name: future.result() for name, future in futures.items()}


def test_restricted_host_settings_pass(runs):
    run = runs["restricted-everything"]
    assert run.rc == 0, run.text
    assert run.ssh_calls == [], run.ssh_calls


@pytest.mark.parametrize(("name", "variable"), [(name, variable) for name, (variable, _) in BAD.items()])
def test_a_bad_host_variable_fails_early_with_one_line_naming_it(runs, name, variable):
    run = runs[name]
    assert run.rc != 0, f"the preflight let the bad {variable} through:\n{run.text}"
    assert run.ssh_calls == [], run.ssh_calls
    msgs = run.failure_messages()
    assert msgs, f"no failed task:\n{run.text}"
    for msg in msgs:
        assert variable in msg, msg
        assert "\n" not in msg.strip(), msg
