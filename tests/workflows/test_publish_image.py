""".github/scripts/publish-image, the deploy workflow's push step, against a real registry on
loopback in place of ghcr.io (local_registry.py). It builds with `make image`, pushes the sha and
`main` tags, and records the digest the registry serves; bad input is refused before anything
is built."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from local_registry import DOCKER

ROOT = Path(__file__).resolve().parents[2]
PUBLISH = ROOT / ".github" / "scripts" / "publish-image"
SHA = "0123456789abcdef0123456789abcdef01234567"
OWNER = "Stacks-WF-Test"  # upper case on purpose: registry paths must be lower case


def test_the_image_is_built_pushed_with_both_tags_and_its_digest_recorded(tmp_path, registry):
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    outputs = tmp_path / "github_output"
    outputs.touch()
    docker_config = Path.home() / ".docker" / "config.json"
    config_before = docker_config.read_text(encoding="utf-8") if docker_config.exists() else None
    token = "registry-token-for-tests-only"
    env = {**os.environ, "REGISTRY": registry.address, "OWNER": OWNER, "REGISTRY_USER": "ci",
           "REGISTRY_TOKEN": token, "GITHUB_OUTPUT": str(outputs)}
    env.pop("DOCKER_CONFIG", None)

    result = subprocess.run([str(PUBLISH), revision], cwd=ROOT, capture_output=True, text=True,
                            env=env, timeout=1200, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert token not in result.stdout + result.stderr

    path = f"{OWNER.lower()}/library"
    recorded = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
    assert recorded["image"] == f"{registry.address}/{path}:{revision}"
    assert recorded["digest"].startswith("sha256:")
    # The registry serves that digest for the sha tag, and `main` is the same image.
    assert registry.digest(path, revision) == recorded["digest"]
    assert registry.digest(path, "main") == recorded["digest"]
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
