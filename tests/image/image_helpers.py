"""Docker helpers shared by the image tests (the client tools/build-image uses)."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("DOCKER") or subprocess.run(
    [ROOT / "tools" / "offline" / "docker-client"], capture_output=True, text=True, check=True
).stdout.strip()
# How production runs the web container (compose: read_only, cap_drop, no-new-privileges).
HARDENING = (
    "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
)


def docker(*args, check=True, timeout=120):
    result = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def inspect(ref):
    return json.loads(docker("inspect", ref).stdout)[0]
