"""ansible/smoke.yml (the deploy's health gate, roles/library/tasks/release/health.yml, and the
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
sys.path.insert(0, str(ROOT / "tests"))
from ansible_results import JSON_CALLBACK, Run, read_run

BIN = Path(sys.executable).parent
GOOD = "0123456789abcdef0123456789abcdef01234567"
OLD = "fedcba9876543210fedcba9876543210fedcba98"
HEALTH_SECONDS = 3  # library_health_seconds: the gate's polls, 0.5 s apart, end 3 s after its start


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


def inventory(tmp_path: Path, hostvars: dict[str, dict], group="library") -> Path:
    """Hosts asked with a local connection (the gate's tasks run here, against the fake hosts)."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
             "library_allowed_hosts": ["localhost"], "library_health_seconds": HEALTH_SECONDS}
    hosts = {name: {**local, **values} for name, values in hostvars.items()}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {group: {"hosts": hosts}}}}), encoding="utf-8")
    return path


def failure(run, host: str) -> str:
    """The failure messages of HOST's tasks, as one text."""
    return " ".join(run.failure_messages(host))


def failed_hosts(run) -> set[str]:
    return {host for host, counts in run.recap.items() if counts["failed"]}


def result_of(run, host: str, task: str) -> dict:
    """HOST's result of the task named TASK ("role : name")."""
    return next(r for name, h, r in run.results() if h == host and name == task)


def smoke(inv: Path, revision=GOOD, **extra_vars) -> Run:
    extra = {"library_revision": revision, **extra_vars} if revision else extra_vars
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}, **JSON_CALLBACK}
    return read_run(subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inv), "smoke.yml", "-e", json.dumps(extra)],
        cwd=ROOT / "ansible", capture_output=True, text=True, timeout=180, env=env, check=False))


def plain(host: OpsHost) -> dict:
    return {"ansible_host": "127.0.0.1", "library_http_port": host.port}


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


def tls_host(host: OpsHost, domain: str, ca: Path) -> dict:
    return {"ansible_host": "127.0.0.1", "library_domain": domain, "library_https_port": host.port,
            "library_smoke_ca_file": str(ca)}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, tls_files):
    """Hosts of every kind in one inventory, checked by one run (smoke.yml checks every host, even
    after one fails, and each host's result is its own): {name: its OpsHost}, and the run. The
    gate's retries are timed (library_health_seconds): hosts whose tests count them run alone."""
    context = tls_context(tls_files)
    made = {
        "web1": OpsHost(), "web2": OpsHost(), "old": OpsHost(revision=OLD), "unready": OpsHost(unready_for=100),
        "tls-named": OpsHost(tls=context), "tls-other-name": OpsHost(tls=context), "tls-untrusted": OpsHost(tls=context),
    }
    hostvars = {name: plain(host) for name, host in made.items() if not name.startswith("tls-")}
    hostvars["tls-named"] = tls_host(made["tls-named"], "library.test", tls_files / "ca.pem")
    hostvars["tls-other-name"] = tls_host(made["tls-other-name"], "other.test", tls_files / "ca.pem")
    hostvars["tls-untrusted"] = tls_host(made["tls-untrusted"], "library.test", tls_files / "other-ca.pem")
    result = smoke(inventory(tmp_path_factory.mktemp("smoke"), hostvars))
    yield made, result
    for host in made.values():
        host.close()


def test_every_host_ready_at_the_revision_passes(fleet):
    made, result = fleet
    assert set(result.recap) >= {"web1", "web2"}
    assert not failure(result, "web1") and not failure(result, "web2"), result.stderr
    assert {"web1", "web2"}.isdisjoint(failed_hosts(result))
    # Each host was asked itself, under a name the site accepts.
    assert made["web1"].hosts_seen and set(made["web1"].hosts_seen) == {"localhost"}
    assert made["web2"].hosts_seen and set(made["web2"].hosts_seen) == {"localhost"}


def test_the_run_fails_naming_exactly_the_failed_hosts(fleet):
    _, result = fleet
    assert result.rc != 0
    assert failed_hosts(result) == {"old", "unready", "tls-other-name", "tls-untrusted"}


def test_one_host_at_an_older_revision_fails_naming_it(fleet):
    _, result = fleet
    assert f'/version reports revision "{OLD}", expected "{GOOD}"' in failure(result, "old")
    assert failure(result, "old").startswith("old ")


def test_a_host_that_is_not_ready_fails_naming_the_check(fleet):
    _, result = fleet
    assert '/readyz answered 503 {"database": "ok", "migrations": "pending"}' in failure(result, "unready")


def test_a_host_that_becomes_ready_while_retrying_passes(tmp_path):
    host = OpsHost(unready_for=2)
    try:
        result = smoke(inventory(tmp_path, {"web1": plain(host)}))
    finally:
        host.close()
    assert result.rc == 0, failure(result, "web1") + result.stderr
    ready = result_of(result, "web1", "library : Ask the proxy for /readyz until it answers 200")
    assert ready["attempts"] == 3


def test_a_host_that_does_not_answer_fails_after_bounded_attempts(tmp_path):
    gone = OpsHost()
    gone.close()  # its port is now closed
    result = smoke(inventory(tmp_path, {"web1": plain(gone)}))
    assert result.rc != 0
    assert "/readyz answered -1" in failure(result, "web1")
    assert "refused" in failure(result, "web1").lower()
    ready = result_of(result, "web1", "library : Ask the proxy for /readyz until it answers 200")
    # Retried until library_health_seconds have passed, at a poll every 0.5 s at most, then
    # given up.
    assert 2 <= ready["attempts"] <= HEALTH_SECONDS * 2, ready["attempts"]
    assert HEALTH_SECONDS <= result.seconds("library : Ask the proxy for /readyz") < HEALTH_SECONDS + 3


def test_a_host_with_a_domain_is_asked_by_name_and_its_certificate_verified(fleet):
    made, result = fleet
    assert not failure(result, "tls-named"), result.stderr
    assert made["tls-named"].hosts_seen and set(made["tls-named"].hosts_seen) == {"library.test"}
    names = result_of(result, "tls-named", "library : Read the names the certificate is for")
    assert "DNS:library.test" in names["subject_alt_name"]


def test_a_certificate_for_another_name_fails(fleet):
    _, result = fleet
    assert "shows a certificate for DNS:library.test" in failure(result, "tls-other-name")
    assert "not for other.test" in failure(result, "tls-other-name")


def test_a_certificate_from_an_untrusted_ca_fails(fleet):
    _, result = fleet
    assert "verify failed" in failure(result, "tls-untrusted").lower(), failure(result, "tls-untrusted")


def test_an_inventory_without_library_hosts_is_refused(tmp_path):
    result = smoke(inventory(tmp_path, {"web1": {"ansible_host": "127.0.0.1", "library_http_port": 9}}, group="other"))
    assert result.rc != 0
    assert "the inventory has no host in group library" in failure(result, "localhost")


def test_a_missing_revision_is_refused(tmp_path):
    result = smoke(inventory(tmp_path, {"web1": {"ansible_host": "127.0.0.1", "library_http_port": 9}}), revision=None)
    assert result.rc != 0
    assert "library_revision is missing" in failure(result, "localhost")
