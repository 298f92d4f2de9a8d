"""A real image registry on loopback for the publishing scripts' tests, in place of ghcr.io:
Debian's docker-registry (the distribution registry). Docker trusts 127.0.0.0/8 over plain
HTTP, so no certificate is needed. Its access log is kept: a test can tell what was asked of it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("DOCKER") or subprocess.run(
    [ROOT / "tools" / "offline" / "docker-client"], capture_output=True, text=True, check=True
).stdout.strip()
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json"
)


@dataclass
class Registry:
    address: str  # 127.0.0.1:PORT
    log: Path  # its access log: one line per request ("PUT /v2/... HTTP/1.1" 201 ...)

    def requests(self) -> list[str]:
        """The requests so far, as 'METHOD PATH'."""
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"' in line:
                words = line.split('"')[1].split()
                if len(words) == 3 and words[2].startswith("HTTP/"):
                    found.append(f"{words[0]} {words[1]}")
        return found

    def digest(self, path: str, tag: str) -> str:
        """The digest the registry serves for PATH:TAG."""
        request = urllib.request.Request(f"http://{self.address}/v2/{path}/manifests/{tag}", method="HEAD",
                                         headers={"Accept": MANIFEST_TYPES})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(folder: Path) -> Iterator[Registry]:
    """A throwaway registry storing into FOLDER; on exit it stops, and the local tags of its
    images are removed (the engine keeps the layers)."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry (Debian package) is missing: run tools/setup-machine"
    address = f"127.0.0.1:{free_port()}"
    config = folder / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: {address}\n",
        encoding="utf-8",
    )
    registry = Registry(address, folder / "registry.log")
    with registry.log.open("wb") as log:
        server = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("docker-registry did not answer within 5 s")
        yield registry
    finally:
        server.terminate()
        server.wait(timeout=10)
        tags = [t for t in subprocess.run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}"],
                                          capture_output=True, text=True, check=False).stdout.split()
                if t.startswith(f"{address}/")]
        if tags:
            subprocess.run([DOCKER, "rmi", *tags], capture_output=True, check=False)
