"""tools/smoke against real HTTP(S) servers on loopback that play the ops endpoints of a
deployed host (/readyz, /version), with inventories read by the real ansible-inventory."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "tools" / "smoke"
GOOD = "0123456789abcdef0123456789abcdef01234567"
OLD = "fedcba9876543210fedcba9876543210fedcba98"


class OpsHost:
    """One 'host': answers /readyz and /version like the app; not ready for the first
    `unready_for` requests to /readyz (a stack still rolling over)."""

    def __init__(self, revision=GOOD, ready_status=200, unready_for=0, tls: ssl.SSLContext | None = None):
        self.revision, self.ready_status, self.unready_for = revision, ready_status, unready_for
        self.hosts_seen: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.hosts_seen.append(self.headers.get("Host", ""))
                if self.path == "/readyz":
                    if host.unready_for > 0:
                        host.unready_for -= 1
                        self.reply(503, {"status": "error", "checks": {"database": "ok", "migrations": "pending"}})
                    else:
                        self.reply(host.ready_status, {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}})
                elif self.path == "/version":
                    self.reply(200, {"version": "1", "revision": host.revision, "built": "2026-01-01T00:00:00Z"})
                else:
                    self.reply(404, {"detail": "not found"})

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hosts():
    made: list[OpsHost] = []

    def make(**kwargs) -> OpsHost:
        made.append(OpsHost(**kwargs))
        return made[-1]

    yield make
    for host in made:
        host.close()


def inventory(tmp_path: Path, hostvars: dict[str, dict], group="library") -> Path:
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {group: {"hosts": hostvars}}}}), encoding="utf-8")
    return path


def smoke(inv: Path, revision=GOOD, *extra, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SMOKE), "--attempts", "3", "--delay", "0.2", "--timeout", "2", *extra, str(inv), revision],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )


def plain(host: OpsHost) -> dict:
    return {"ansible_host": "127.0.0.1", "library_http_port": host.port}


def test_every_host_ready_at_the_revision_passes(tmp_path, hosts):
    a, b = hosts(), hosts()
    markdown = tmp_path / "smoke.md"
    result = smoke(inventory(tmp_path, {"web1": plain(a), "web2": plain(b)}), GOOD, "--markdown", str(markdown))
    assert result.returncode == 0, result.stderr
    assert f"web1 http://127.0.0.1:{a.port}: OK" in result.stdout
    assert f"web2 http://127.0.0.1:{b.port}: OK" in result.stdout
    table = markdown.read_text(encoding="utf-8")
    assert "| web1 |" in table and "| web2 |" in table and "❌" not in table


def test_one_host_at_an_older_revision_fails_naming_it(tmp_path, hosts):
    a, b = hosts(), hosts(revision=OLD)
    result = smoke(inventory(tmp_path, {"web1": plain(a), "web2": plain(b)}))
    assert result.returncode == 1
    assert "web1" in result.stdout and f"web2 http://127.0.0.1:{b.port}: FAILED" in result.stdout
    assert f"reports revision '{OLD}', expected '{GOOD}'" in result.stdout
    assert "FAILED on web2" in result.stderr


def test_a_host_that_is_not_ready_fails_naming_the_check(tmp_path, hosts):
    result = smoke(inventory(tmp_path, {"web1": plain(hosts(unready_for=100))}))
    assert result.returncode == 1
    assert '/readyz 503 {"database": "ok", "migrations": "pending"}' in result.stdout


def test_a_host_that_becomes_ready_while_retrying_passes(tmp_path, hosts):
    host = hosts(unready_for=2)
    result = smoke(inventory(tmp_path, {"web1": plain(host)}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "attempt 2/3: waiting for web1" in result.stderr


def test_a_host_that_does_not_answer_fails_after_bounded_attempts(tmp_path, hosts):
    gone = hosts()
    gone.close()  # its port is now closed
    result = smoke(inventory(tmp_path, {"web1": plain(gone)}))
    assert result.returncode == 1
    assert "no answer" in result.stdout
    assert result.stderr.count("waiting for web1") == 2  # 3 attempts, waits between them


def test_an_inventory_without_library_hosts_is_refused(tmp_path, hosts):
    result = smoke(inventory(tmp_path, {"web1": plain(hosts())}, group="other"))
    assert result.returncode == 2
    assert "has no host in group 'library'" in result.stderr


def test_a_templated_address_is_refused(tmp_path):
    result = smoke(inventory(tmp_path, {"web1": {"ansible_host": "{{ lookup('env', 'X') }}"}}))
    assert result.returncode == 2
    assert "web1: ansible_host is a template" in result.stderr


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A throwaway CA and a certificate for library.test signed by it."""
    d = tmp_path_factory.mktemp("tls")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=smoke test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=library.test",
            "-keyout", "site.key", "-out", "site.csr")
    (d / "san.ext").write_text("subjectAltName=DNS:library.test\n", encoding="utf-8")
    openssl("x509", "-req", "-in", "site.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "site.pem")
    return d


def tls_context(tls_files: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "site.pem", tls_files / "site.key")
    return context


def test_a_host_with_a_domain_is_checked_over_verified_https_at_its_address(tmp_path, hosts, tls_files):
    host = hosts(tls=tls_context(tls_files))
    inv = inventory(tmp_path, {"web1": {"ansible_host": "127.0.0.1", "library_domain": "library.test",
                                        "library_https_port": host.port}})
    result = smoke(inv, env={**os.environ, "SSL_CERT_FILE": str(tls_files / "ca.pem")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"https://library.test:{host.port} (at 127.0.0.1): OK" in result.stdout
    assert host.hosts_seen and set(host.hosts_seen) == {f"library.test:{host.port}"}


def test_a_certificate_for_another_name_fails(tmp_path, hosts, tls_files):
    host = hosts(tls=tls_context(tls_files))
    inv = inventory(tmp_path, {"web1": {"ansible_host": "127.0.0.1", "library_domain": "other.test",
                                        "library_https_port": host.port}})
    result = smoke(inv, env={**os.environ, "SSL_CERT_FILE": str(tls_files / "ca.pem")})
    assert result.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.stdout or "doesn't match" in result.stdout
