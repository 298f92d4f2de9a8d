"""Fixtures for the image tests: the built image running against the test PostgreSQL.

The app container runs on Docker's default bridge (so its own port 8000 and HEALTHCHECK are
exactly what production runs) and reaches the loopback-only PostgreSQL through a small TCP
relay that this test process opens on the bridge's gateway address for the session.
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests
from image_helpers import HARDENING, ROOT, docker, inspect

PREFIX = f"stacks-imgtest-{uuid.uuid4().hex[:8]}"  # every container we start is named so
SECRET_KEY = "image-test-only-" + secrets.token_hex(16)


@pytest.fixture(scope="session")
def image():
    ref = os.environ.get("STACKS_TEST_IMAGE")
    assert ref, "STACKS_TEST_IMAGE is not set: run tests/image/run"
    inspect(ref)  # fails early if absent
    return ref


@pytest.fixture(scope="session")
def revision():
    return os.environ["STACKS_TEST_REVISION"]


class Relay:
    """Forward TCP connections from (listen_host, an ephemeral port) to target; bounded by
    the session: the listening socket closes at teardown."""

    def __init__(self, listen_host, target):
        self.target = target
        self.server = socket.create_server((listen_host, 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.close()


def bridge_gateway():
    """The host's address on Docker's default bridge (what host-gateway resolves to)."""
    bridge = inspect("bridge")
    gateway = (bridge["IPAM"]["Config"] or [{}])[0].get("Gateway")
    if gateway:
        return gateway
    device = bridge["Options"].get("com.docker.network.bridge.name", "docker0")
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", device],
                         capture_output=True, text=True, check=True).stdout
    return out.split()[3].split("/")[0]


@pytest.fixture(scope="session")
def database_url():
    """A fresh database for this run, as the containers reach it."""
    url = urllib.parse.urlsplit(os.environ["STACKS_TEST_DATABASE_URL"])
    dbname = f"image_test_{uuid.uuid4().hex[:8]}"
    admin = url._replace(path="/postgres").geturl()
    psql = ["psql", admin, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c"]
    relay = Relay(bridge_gateway(), (url.hostname, url.port))
    subprocess.run([*psql, f"CREATE DATABASE {dbname}"], check=True)
    netloc = f"{url.username}:{url.password}@host.docker.internal:{relay.port}"
    yield url._replace(netloc=netloc, path=f"/{dbname}").geturl()
    relay.close()
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"], check=False)


@pytest.fixture(scope="session")
def run_container(image):
    """docker run with our name prefix; every container started is removed at the end."""
    started = []

    def run(*args, env=None, name="c", detach=True, timeout=120):
        cname = f"{PREFIX}-{name}-{len(started)}"
        started.append(cname)
        env_args = [a for k, v in (env or {}).items() for a in ("-e", f"{k}={v}")]
        cmd = ["run", "--name", cname, "--add-host", "host.docker.internal:host-gateway"]
        cmd += ["--detach"] if detach else []
        result = docker(*cmd, *env_args, *args, check=False, timeout=timeout)
        return cname, result

    yield run
    for cname in started:
        docker("rm", "--force", "--volumes", cname, check=False)


@pytest.fixture(scope="session")
def app_env(database_url):
    return {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_HTTPS": "0",
        "DATABASE_URL": database_url,
        "GUNICORN_WORKERS": "2",
    }


@pytest.fixture(scope="session")
def migrated(image, app_env, run_container):
    """The image's own migrate command, as a deploy runs it."""
    _, result = run_container(
        image, "python", "manage.py", "migrate", "--noinput",
        env=app_env, name="migrate", detach=False, timeout=300,
    )
    assert result.returncode == 0, f"migrate failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def web_https(image, app_env, migrated, run_container):
    """The production settings (DJANGO_HTTPS=1, a real host name only): its HEALTHCHECK must
    still pass over the container's plain-HTTP loopback. Started early, checked later."""
    env = {**app_env, "DJANGO_HTTPS": "1", "DJANGO_ALLOWED_HOSTS": "library.example.invalid"}
    name, result = run_container(*HARDENING, image, env=env, name="web-https")
    assert result.returncode == 0, result.stderr
    return name


@pytest.fixture(scope="session")
def web(image, app_env, migrated, run_container, web_https):
    """The image's default command, hardened as production runs it; yields its base URL."""
    name, result = run_container(
        *HARDENING, "--publish", "127.0.0.1::8000", image, env=app_env, name="web"
    )
    assert result.returncode == 0, result.stderr
    port = docker("port", name, "8000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        state = inspect(name)["State"]
        if not state["Running"]:
            logs = docker("logs", name, check=False)
            pytest.fail(f"web exited {state['ExitCode']}:\n{logs.stdout}{logs.stderr}")
        if time.monotonic() > deadline:
            pytest.fail("web did not answer /healthz within 60 s")
        time.sleep(0.5)
    return {"name": name, "url": base}


TLS_DB_HOST = "db.tls.invalid"  # the name in the server certificate (resolved to the relay)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def tls_database():
    """An external-style PostgreSQL that accepts only TLS connections, with a certificate for
    TLS_DB_HOST signed by a throwaway CA: what a deploy with library_database_url and
    library_database_ca_file connects to. Yields its URL (without sslmode/sslrootcert, as the
    containers reach it through a relay), the CA file and another CA's file."""
    pgbin = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    # Not under pytest's 0700 tmp: the server runs as the postgres user and must reach it.
    work = Path(tempfile.mkdtemp(prefix="stacks-imgtest-tls-", dir="/var/tmp"))
    work.chmod(0o755)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=stacks image test CA", cwd=work)
    _openssl("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2",
             "-subj", "/CN=stacks image test other CA", cwd=work)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={TLS_DB_HOST}", cwd=work)
    (work / "san.ext").write_text(f"subjectAltName=DNS:{TLS_DB_HOST}\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "san.ext", cwd=work)
    for name in ("ca.pem", "other-ca.pem"):
        (work / name).chmod(0o644)  # read by the app's own user in the container
    data = work / "data"
    password = "image-test-only-" + secrets.token_hex(8)
    (work / "pw").write_text(password + "\n")
    subprocess.run(["chown", "-R", "postgres:postgres", str(work)], check=True)
    (work / "server.key").chmod(0o600)
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(pgbin / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth-local=peer", "--auth-host=scram-sha-256", f"--pwfile={work / 'pw'}"],
                   check=True, capture_output=True, timeout=120)
    # TLS or nothing: no plain "host" line.
    (data / "pg_hba.conf").write_text("local all all peer\nhostssl all all 127.0.0.1/32 scram-sha-256\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = (f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on "
               f"-c ssl_cert_file={work / 'server.crt'} -c ssl_key_file={work / 'server.key'}")
    subprocess.run([*as_pg, str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(work / "server.log"),
                    "-w", "-o", options, "start"], check=True, capture_output=True, timeout=60)
    relay = Relay(bridge_gateway(), ("127.0.0.1", port))
    try:
        yield {
            "url": f"postgres://postgres:{password}@{TLS_DB_HOST}:{relay.port}/postgres",
            "ca": work / "ca.pem",
            "other_ca": work / "other-ca.pem",
        }
    finally:
        relay.close()
        subprocess.run([*as_pg, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


# The release the lab pins when the official image can be pulled (deploy/lab/lab), else the
# stand-in built from Debian's package (tools/offline): the same choice, STACKS_OFFLINE too.
OFFICIAL_CADDY = "caddy:2.10.2"
OFFLINE_CADDY = "stacks-offline/caddy:2"
OFFICIAL_VALKEY = "valkey/valkey:8.1.11-trixie"
OFFLINE_VALKEY = "stacks-offline/valkey:8.1"


def _present_or_pulled(ref):
    if docker("image", "inspect", ref, check=False).returncode == 0:
        return True
    try:
        return docker("pull", "-q", ref, check=False, timeout=300).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def official_or_stand_in(official, stand_in):
    offline = os.environ.get("STACKS_OFFLINE", "")
    if offline != "1" and _present_or_pulled(official):
        return official
    assert offline != "0", f"STACKS_OFFLINE=0 but {official} cannot be pulled"
    build = ROOT / "tools" / "offline" / "images" / "build"
    subprocess.run([build], check=True, capture_output=True, timeout=1800)
    return stand_in


@pytest.fixture(scope="session")
def caddy_image():
    return official_or_stand_in(OFFICIAL_CADDY, OFFLINE_CADDY)


@pytest.fixture(scope="session")
def valkey_image():
    return official_or_stand_in(OFFICIAL_VALKEY, OFFLINE_VALKEY)


def _published(name, port):
    return int(docker("port", name, f"{port}/tcp").stdout.splitlines()[0].rsplit(":", 1)[1])


@pytest.fixture(scope="session")
def proxy(caddy_image, web, run_container):
    """compose/proxy (the Caddyfile and upstream.caddy, as a host has them) in the Caddy image,
    hardened as compose runs it, in front of the web container on a network of their own where
    web answers to "web" (upstream.caddy's `to web:8000`). Yields the public site's and the
    metrics site's base URLs."""
    network = f"{PREFIX}-proxy"
    docker("network", "create", network)
    docker("network", "connect", "--alias", "web", network, web["name"])
    env = {"LIBRARY_SITE_ADDRESS": ":80", "LIBRARY_DEFAULT_SNI": "localhost", "LIBRARY_TLS": "",
           "LIBRARY_MAX_BODY_BYTES": "1048576"}
    name, result = run_container(
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE",
        "--security-opt", "no-new-privileges", "--network", network,
        "--volume", f"{ROOT / 'compose' / 'proxy'}:/etc/caddy:ro",
        "--publish", "127.0.0.1::80", "--publish", "127.0.0.1::9180",
        caddy_image, env=env, name="proxy",
    )
    assert result.returncode == 0, result.stderr
    urls = {"public": f"http://127.0.0.1:{_published(name, 80)}",
            "metrics": f"http://127.0.0.1:{_published(name, 9180)}"}
    deadline = time.monotonic() + 60
    while True:  # Caddy sends traffic once its health check has seen web's /readyz
        try:
            if requests.get(urls["public"] + "/readyz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if not inspect(name)["State"]["Running"] or time.monotonic() > deadline:
            logs = docker("logs", name, check=False)
            pytest.fail(f"the proxy does not serve web's /readyz:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.5)
    yield urls
    docker("rm", "--force", "--volumes", name, check=False)
    docker("network", "disconnect", "--force", network, web["name"], check=False)
    docker("network", "rm", network, check=False)
