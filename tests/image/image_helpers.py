"""Docker helpers shared by the image tests (the Debian client, as the build uses)."""

import json
import subprocess

DOCKER = "/usr/bin/docker"
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
