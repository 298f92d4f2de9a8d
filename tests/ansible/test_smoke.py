"""ansible/smoke.yml (the deploy's health gate, roles/library/tasks/health.yml, and the
certificate check) against real HTTP(S) servers on loopback that play the ops endpoints of a
deployed host (/readyz, /version). The inventory's hosts are asked with a local connection, so
the same tasks run as on a real host, and no host is contacted."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOOD = "0123456789abcdef0123456789abcdef01234567"
OLD = "fedcba9876543210fedcba9876543210fedcba98"
HEALTH_SECONDS = 1  # with the gate's 0.5 s polls: 3 attempts


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
    """Hosts asked with a local connection (the gate's tasks run here, against the fake hosts)."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
             "library_allowed_hosts": ["localhost"], "library_health_seconds": HEALTH_SECONDS}
    hosts = {name: {**local, **values} for name, values in hostvars.items()}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {group: {"hosts": hosts}}}}), encoding="utf-8")
    return path


class Smoke:
    """A smoke.yml run, read from Ansible's JSON callback."""

    def __init__(self, process: subprocess.CompletedProcess):
        self.rc, self.stderr = process.returncode, process.stderr
        self.report = json.loads(process.stdout)

    def results(self, host: str) -> dict[str, dict]:
        """{task name: result} of one host."""
        return {task["task"]["name"]: task["hosts"][host] for play in self.report["plays"]
                for task in play["tasks"] if host in task["hosts"]}

    def failure(self, host: str) -> str:
        return " ".join(str(r["msg"]) for r in self.results(host).values() if r.get("failed"))

    def failed(self) -> set[str]:
        return {host for host, stats in self.report["stats"].items() if stats["failures"]}


def smoke(inv: Path, revision=GOOD, **extra_vars) -> Smoke:
    extra = {"library_revision": revision, **extra_vars} if revision else extra_vars
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_NOCOLOR": "1"}
    return Smoke(subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inv), "smoke.yml", "-e", json.dumps(extra)],
        cwd=ROOT / "ansible", capture_output=True, text=True, timeout=180, env=env, check=False))


def plain(host: OpsHost) -> dict:
    return {"ansible_host": "127.0.0.1", "library_http_port": host.port}


def test_every_host_ready_at_the_revision_passes(tmp_path, hosts):
    a, b = hosts(), hosts()
    result = smoke(inventory(tmp_path, {"web1": plain(a), "web2": plain(b)}))
    assert result.rc == 0, result.stderr
    assert set(result.report["stats"]) >= {"web1", "web2"} and result.failed() == set()
    # Each host was asked itself, under a name the site accepts.
    assert a.hosts_seen and set(a.hosts_seen) == {"localhost"}
    assert b.hosts_seen and set(b.hosts_seen) == {"localhost"}


def test_one_host_at_an_older_revision_fails_naming_it(tmp_path, hosts):
    a, b = hosts(), hosts(revision=OLD)
    result = smoke(inventory(tmp_path, {"web1": plain(a), "web2": plain(b)}))
    assert result.rc != 0
    assert result.failed() == {"web2"}
    assert f'/version reports revision "{OLD}", expected "{GOOD}"' in result.failure("web2")
    assert result.failure("web2").startswith("web2 ")


def test_a_host_that_is_not_ready_fails_naming_the_check(tmp_path, hosts):
    result = smoke(inventory(tmp_path, {"web1": plain(hosts(unready_for=100))}))
    assert result.rc != 0
    assert '/readyz answered 503 {"database": "ok", "migrations": "pending"}' in result.failure("web1")


def test_a_host_that_becomes_ready_while_retrying_passes(tmp_path, hosts):
    host = hosts(unready_for=2)
    result = smoke(inventory(tmp_path, {"web1": plain(host)}))
    assert result.rc == 0, result.failure("web1") + result.stderr
    ready = result.results("web1")["library : Ask the proxy for /readyz until it answers 200"]
    assert ready["attempts"] == 3


def test_a_host_that_does_not_answer_fails_after_bounded_attempts(tmp_path, hosts):
    gone = hosts()
    gone.close()  # its port is now closed
    result = smoke(inventory(tmp_path, {"web1": plain(gone)}))
    assert result.rc != 0
    assert "/readyz answered -1" in result.failure("web1")
    assert "refused" in result.failure("web1").lower()
    ready = result.results("web1")["library : Ask the proxy for /readyz until it answers 200"]
    # Retried for library_health_seconds at a poll every 0.5 s, then given up (Ansible counts
    # the retries of a loop that never succeeded).
    assert ready["attempts"] == HEALTH_SECONDS * 2


def test_an_inventory_without_library_hosts_is_refused(tmp_path, hosts):
    result = smoke(inventory(tmp_path, {"web1": plain(hosts())}, group="other"))
    assert result.rc != 0
    assert "the inventory has no host in group library" in result.failure("localhost")


def test_a_missing_revision_is_refused(tmp_path, hosts):
    result = smoke(inventory(tmp_path, {"web1": plain(hosts())}), revision=None)
    assert result.rc != 0
    assert "library_revision is missing" in result.failure("localhost")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A throwaway CA, a certificate for library.test signed by it, and another CA."""
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
    # A CA that signed nothing the hosts show.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=another CA",
            "-keyout", "other-ca.key", "-out", "other-ca.pem")
    return d


def tls_context(tls_files: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files / "site.pem", tls_files / "site.key")
    return context


def tls_host(host: OpsHost, domain: str) -> dict:
    return {"ansible_host": "127.0.0.1", "library_domain": domain, "library_https_port": host.port}


def test_a_host_with_a_domain_is_asked_by_name_and_its_certificate_verified(tmp_path, hosts, tls_files):
    host = hosts(tls=tls_context(tls_files))
    result = smoke(inventory(tmp_path, {"web1": tls_host(host, "library.test")}),
                   library_smoke_ca_file=str(tls_files / "ca.pem"))
    assert result.rc == 0, result.failure("web1") + result.stderr
    assert host.hosts_seen and set(host.hosts_seen) == {"library.test"}
    names = result.results("web1")["library : Read the names the certificate is for"]
    assert "DNS:library.test" in names["subject_alt_name"]


def test_a_certificate_for_another_name_fails(tmp_path, hosts, tls_files):
    host = hosts(tls=tls_context(tls_files))
    result = smoke(inventory(tmp_path, {"web1": tls_host(host, "other.test")}),
                   library_smoke_ca_file=str(tls_files / "ca.pem"))
    assert result.rc != 0
    assert "shows a certificate for DNS:library.test" in result.failure("web1")
    assert "not for other.test" in result.failure("web1")


def test_a_certificate_from_an_untrusted_ca_fails(tmp_path, hosts, tls_files):
    host = hosts(tls=tls_context(tls_files))
    result = smoke(inventory(tmp_path, {"web1": tls_host(host, "library.test")}),
                   library_smoke_ca_file=str(tls_files / "other-ca.pem"))
    assert result.rc != 0
    assert "verify failed" in result.failure("web1").lower(), result.failure("web1")
