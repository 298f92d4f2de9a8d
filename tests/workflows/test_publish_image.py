""".github/scripts/publish-image, the deploy workflow's push step, against a real registry:
Debian's docker-registry (the distribution registry) on loopback, in place of ghcr.io. It
builds with `make image`, pushes the sha and `main` tags, and records the digest the registry
serves; bad input is refused before anything is built."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLISH = ROOT / ".github" / "scripts" / "publish-image"
DOCKER = os.environ.get("DOCKER") or subprocess.run(
    [ROOT / "tools" / "offline" / "docker-client"], capture_output=True, text=True, check=True
).stdout.strip()
SHA = "0123456789abcdef0123456789abcdef01234567"
OWNER = "Stacks-WF-Test"  # upper case on purpose: registry paths must be lower case
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json"
)


@pytest.fixture
def registry(tmp_path):
    """A throwaway registry on a free loopback port (Docker trusts 127.0.0.0/8 over plain HTTP)."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry (Debian package) is missing: run tools/setup-machine"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    server = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("docker-registry did not answer within 5 s")
        yield address
    finally:
        server.terminate()
        server.wait(timeout=10)
        repo = f"{address}/{OWNER.lower()}/library"
        tags = subprocess.run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}", repo],
                              capture_output=True, text=True, check=False).stdout.split()
        if tags:
            subprocess.run([DOCKER, "rmi", *tags], capture_output=True, check=False)


def served_digest(address: str, path: str, tag: str) -> str:
    request = urllib.request.Request(f"http://{address}/v2/{path}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": MANIFEST_TYPES})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def test_the_image_is_built_pushed_with_both_tags_and_its_digest_recorded(tmp_path, registry):
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    outputs = tmp_path / "github_output"
    outputs.touch()
    docker_config = Path.home() / ".docker" / "config.json"
    config_before = docker_config.read_text(encoding="utf-8") if docker_config.exists() else None
    token = "registry-token-for-tests-only"
    env = {**os.environ, "REGISTRY": registry, "OWNER": OWNER, "REGISTRY_USER": "ci",
           "REGISTRY_TOKEN": token, "GITHUB_OUTPUT": str(outputs)}
    env.pop("DOCKER_CONFIG", None)

    result = subprocess.run([str(PUBLISH), revision], cwd=ROOT, capture_output=True, text=True,
                            env=env, timeout=1200, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert token not in result.stdout + result.stderr

    path = f"{OWNER.lower()}/library"
    recorded = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
    assert recorded["image"] == f"{registry}/{path}:{revision}"
    assert recorded["digest"].startswith("sha256:")
    # The registry serves that digest for the sha tag, and `main` is the same image.
    assert served_digest(registry, path, revision) == recorded["digest"]
    assert served_digest(registry, path, "main") == recorded["digest"]
    # The image says which revision it is (OCI label), as /version will.
    labels = json.loads(subprocess.run(
        [DOCKER, "image", "inspect", "--format", "{{json .Config.Labels}}", recorded["image"]],
        capture_output=True, text=True, check=True).stdout)
    assert labels["org.opencontainers.image.revision"] == revision
    # The login went to a throwaway client config, not the user's.
    after = docker_config.read_text(encoding="utf-8") if docker_config.exists() else None
    assert after == config_before


@pytest.mark.parametrize(
    ("revision", "env", "message"),
    [
        ("main", {"OWNER": "o", "REGISTRY_USER": "u", "REGISTRY_TOKEN": "t"}, "REVISION 'main' is not a full git sha"),
        (SHA, {"REGISTRY_USER": "u", "REGISTRY_TOKEN": "t"}, "OWNER is not set"),
        (SHA, {"OWNER": "o", "REGISTRY_USER": "u"}, "REGISTRY_TOKEN is not set"),
    ],
)
def test_publish_image_refuses_bad_input_before_building(revision, env, message):
    clean = {k: v for k, v in os.environ.items() if k not in ("OWNER", "REGISTRY_USER", "REGISTRY_TOKEN")}
    result = subprocess.run([str(PUBLISH), revision], capture_output=True, text=True,
                            env={**clean, **env}, timeout=30, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "building" not in result.stderr
