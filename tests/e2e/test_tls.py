"""HTTPS with one domain on several hosts (after the lifecycle, on the revision it left).

Two hosts serve library.lab.test with one certificate the operator supplies (here signed by
the lab CA, as a DNS-01 client or a company CA would issue it): no host depends on ACME's
HTTP-01 challenge reaching it rather than the other. And the deploy's health gate asks the host
it deploys, never the domain through DNS: lab-1 is made to resolve the domain to lab-2, which
serves no HTTPS at all; a gate that followed DNS would fail, the pinned one passes. Afterwards
lab-1 goes back to plain HTTP, as the lab runs."""

import socket
import ssl

import pytest
import yaml
from conftest import HOSTS, STATE, get, sh, site_yml, ssh

DOMAIN = "library.lab.test"
LAB_1 = "lab-1"


def https_get(address, path):
    """GET https://DOMAIN/PATH at `address`, verified against the lab CA for DOMAIN."""
    context = ssl.create_default_context(cafile=str(STATE / "ca.crt"))
    with socket.create_connection((address, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def certificate(tmp_path):
    """A certificate for DOMAIN signed by the lab CA, as vars for site.yml (-e @file)."""
    key, csr, crt, ext = (tmp_path / n for n in ("tls.key", "tls.csr", "tls.crt", "san.ext"))
    ext.write_text(f"subjectAltName=DNS:{DOMAIN}\n")
    assert sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", key, "-subj", f"/CN={DOMAIN}", "-out", csr).returncode == 0
    assert sh("openssl", "x509", "-req", "-in", csr, "-CA", STATE / "ca.crt", "-CAkey", STATE / "ca.key",
              "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt).returncode == 0
    tls_vars = tmp_path / "tls.yml"
    tls_vars.write_text(yaml.safe_dump({
        "library_domain": DOMAIN,
        "library_tls_certificate": crt.read_text(),
        "library_tls_key": key.read_text(),
    }))
    return tls_vars


def test_gate_asks_the_host_it_deploys_and_hosts_share_a_certificate(certificate):
    revision = get(f"http://{HOSTS[LAB_1]}/version").json()["revision"]
    other = next(ip for name, ip in HOSTS.items() if name != LAB_1)
    hosts_line = f"{other} {DOMAIN}"
    assert ssh(LAB_1, f"echo '{hosts_line}' | sudo tee -a /etc/hosts").returncode == 0
    try:
        run = site_yml(revision, "--limit", LAB_1, "-e", f"@{certificate}")
        assert run.rc == 0, run.text[-3000:]
        assert run.recap[LAB_1]["failed"] == 0
        status, body = https_get(HOSTS[LAB_1], "/version")
        assert status == 200 and revision.encode() in body
        status, _ = https_get(HOSTS[LAB_1], "/readyz")
        assert status == 200
    finally:
        ssh(LAB_1, f"sudo sed -i '/ {DOMAIN}$/d' /etc/hosts")
        run = site_yml(revision, "--limit", LAB_1)
        assert run.rc == 0, run.text[-3000:]
    assert get(f"http://{HOSTS[LAB_1]}/version").json()["revision"] == revision
