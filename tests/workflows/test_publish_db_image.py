"""The bundled database's image in the pipeline. tools/db-image-tag names it by its inputs (the
PostgreSQL release, then a digest of compose/db and its base); .github/scripts/publish-db-image,
the deploy workflow's step after the app image, builds compose/db and pushes it to a real
registry on loopback (local_registry.py) only when the registry lacks that tag; staging's
inventory names the tag of the compose/db it ships with.
The builds use a PostgreSQL base made from Debian's packages (tools/offline/images), so they pull
from no container registry: the Dockerfile takes its base as a build argument, as it would a
mirror of the official image."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import yaml
from local_registry import DOCKER

ROOT = Path(__file__).resolve().parents[2]
PUBLISH = Path(".github") / "scripts" / "publish-db-image"
DB_IMAGE_TAG = Path("tools") / "db-image-tag"
STAGING_VARS = ROOT / "deploy" / "staging" / "group_vars" / "library" / "vars.yml"
OWNER = "Stacks-WF-Test"  # upper case on purpose: registry paths must be lower case
PATH_IN_REGISTRY = "stacks-wf-test/library-postgres"
BASE = "stacks-offline/postgres:17"
TOKEN = "registry-token-for-tests-only"


def db_image_tag(root: Path, *base: str) -> str:
    result = subprocess.run([str(root / DB_IMAGE_TAG), *base], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the repository's files (tracked, and new ones not ignored): a checkout whose
    compose/db a test may change."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    copy = tmp_path / "checkout"
    for name in filter(None, listed):
        if (ROOT / name).is_file():  # a tracked file deleted from the work tree is not in it
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


# ---- the tag -------------------------------------------------------------------------------

def test_the_tag_is_the_base_release_and_a_digest_of_the_contents_not_of_the_place(checkout):
    dockerfile = (ROOT / "compose" / "db" / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG POSTGRES_IMAGE=(\S+)$", dockerfile, re.MULTILINE).group(1)
    release = base.split("@")[0].rsplit(":", 1)[1]
    tag = db_image_tag(ROOT)
    assert re.fullmatch(rf"{re.escape(release)}-[0-9a-f]{{12}}", tag), tag
    # The same files elsewhere, copied later, give the same tag.
    assert db_image_tag(checkout) == tag


def _comment(root: Path) -> None:
    with (root / "compose" / "db" / "Dockerfile").open("a", encoding="utf-8") as f:
        f.write("# a comment is part of the build's input too\n")


def _new_file(root: Path) -> None:
    (root / "compose" / "db" / "pgbackrest.conf").write_text("[global]\n", encoding="utf-8")


def _executable(root: Path) -> None:
    (root / "compose" / "db" / "Dockerfile").chmod(0o755)


@pytest.mark.parametrize("change", [_comment, _new_file, _executable], ids=["comment", "new file", "executable bit"])
def test_a_change_to_compose_db_changes_the_tag(checkout, change):
    before = db_image_tag(checkout)
    change(checkout)
    after = db_image_tag(checkout)
    assert after != before
    assert after.split("-")[:-1] == before.split("-")[:-1]  # the same release, another digest


def test_another_base_changes_the_tag_and_its_release():
    assert db_image_tag(ROOT, "postgres:17.7-trixie").startswith("17.7-trixie-")
    assert db_image_tag(ROOT, "postgres:17.6-trixie") != db_image_tag(ROOT, "mirror.example:5000/postgres:17.6-trixie")


def test_changes_outside_compose_db_keep_the_tag(checkout):
    before = db_image_tag(checkout)
    (checkout / "README.md").write_text("changed\n", encoding="utf-8")
    (checkout / "app" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    (checkout / "compose" / "compose.yaml").write_text("services: {}\n", encoding="utf-8")
    assert db_image_tag(checkout) == before


@pytest.mark.parametrize("base", ["postgres", "postgres@sha256:" + "ab" * 32, "mirror.example:5000/postgres"])
def test_a_base_without_a_release_tag_is_refused(base):
    result = subprocess.run([str(ROOT / DB_IMAGE_TAG), base], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert f"the base image '{base}' names no release tag" in result.stderr
    assert result.stdout == ""


def test_staging_names_the_db_image_the_pipeline_publishes_for_this_compose_db():
    staging = yaml.safe_load(STAGING_VARS.read_text(encoding="utf-8"))
    # Beside the app image, in the same registry and owner, as publish-db-image pushes it.
    owner_path = staging["library_image_repository"].rsplit("/", 1)[0]
    wanted = f"{owner_path}/library-postgres:{db_image_tag(ROOT)}"
    assert staging["library_postgres_image"] == wanted, (
        f"compose/db changed: the pipeline publishes {wanted}; name it in {STAGING_VARS.relative_to(ROOT)}")


# ---- publishing ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stand_in_base() -> str:
    """PostgreSQL from Debian's packages: the build then pulls no image from any registry."""
    present = subprocess.run([DOCKER, "image", "inspect", BASE], capture_output=True, check=False)
    if present.returncode != 0:
        subprocess.run([str(ROOT / "tools" / "offline" / "images" / "build")], check=True, timeout=1800)
    return BASE


def publish(root: Path, registry: str, outputs: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run publish-db-image of ROOT (a checkout) as the deploy workflow does; its outputs."""
    outputs.write_text("", encoding="utf-8")
    env = {**os.environ, "REGISTRY": registry, "OWNER": OWNER, "REGISTRY_USER": "ci",
           "REGISTRY_TOKEN": TOKEN, "POSTGRES_IMAGE": BASE, "GITHUB_OUTPUT": str(outputs)}
    env.pop("DOCKER_CONFIG", None)
    result = subprocess.run([str(root / PUBLISH)], cwd=root, capture_output=True, text=True, env=env,
                            timeout=1200, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert TOKEN not in result.stdout + result.stderr
    return result, dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())


def test_the_db_image_is_pushed_once_for_each_content_of_compose_db(tmp_path, registry, stand_in_base, checkout):
    outputs = tmp_path / "github_output"

    # The registry lacks the tag: compose/db is built on the base and pushed; the job's output
    # names it.
    first, recorded = publish(checkout, registry.address, outputs)
    tag = db_image_tag(checkout, stand_in_base)
    image = f"{registry.address}/{PATH_IN_REGISTRY}:{tag}"
    assert recorded == {"db-image": image}
    assert f"pushing {image}" in first.stderr
    digest = registry.digest(PATH_IN_REGISTRY, tag)
    # What was pushed is compose/db's image: the base's PostgreSQL with pgBackRest added.
    version = subprocess.run([DOCKER, "run", "--rm", "--entrypoint", "pgbackrest", image, "version"],
                             capture_output=True, text=True, timeout=120, check=False)
    assert version.stdout.startswith("pgBackRest "), version.stdout + version.stderr

    # compose/db unchanged (a push to main that changed something else): the registry is asked
    # for the tag, nothing is built, nothing is uploaded, and the output names the same image.
    asked_before = len(registry.requests())
    second, recorded = publish(checkout, registry.address, outputs)
    asked = registry.requests()[asked_before:]
    assert recorded == {"db-image": image}
    assert f"{image} is in the registry already" in second.stderr
    assert "nothing built or pushed" in second.stderr
    assert "building" not in second.stderr and "pushing" not in second.stderr
    assert f"GET /v2/{PATH_IN_REGISTRY}/manifests/{tag}" in asked, asked
    assert [r for r in asked if not r.startswith(("GET ", "HEAD "))] == []
    assert registry.digest(PATH_IN_REGISTRY, tag) == digest

    # compose/db changed: a new tag, built and pushed; the old tag still names the old image.
    with (checkout / "compose" / "db" / "Dockerfile").open("a", encoding="utf-8") as f:
        f.write('LABEL org.opencontainers.image.description="PostgreSQL with pgBackRest"\n')
    third, recorded = publish(checkout, registry.address, outputs)
    new_tag = db_image_tag(checkout, stand_in_base)
    assert new_tag != tag
    new_image = f"{registry.address}/{PATH_IN_REGISTRY}:{new_tag}"
    assert recorded == {"db-image": new_image}
    assert f"pushing {new_image}" in third.stderr
    assert registry.digest(PATH_IN_REGISTRY, new_tag) != digest  # the label changed the image
    assert registry.digest(PATH_IN_REGISTRY, tag) == digest


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REGISTRY_USER": "u", "REGISTRY_TOKEN": "t"}, "OWNER is not set"),
        ({"OWNER": "o", "REGISTRY_USER": "u"}, "REGISTRY_TOKEN is not set"),
        ({"OWNER": "o", "REGISTRY_USER": "u", "REGISTRY_TOKEN": "t", "POSTGRES_IMAGE": "postgres"},
         "the base image 'postgres' names no release tag"),
    ],
)
def test_publish_db_image_refuses_bad_input_before_building(env, message):
    clean = {k: v for k, v in os.environ.items() if k not in ("OWNER", "REGISTRY_USER", "REGISTRY_TOKEN", "POSTGRES_IMAGE")}
    # An address nothing listens on: a script that went on would fail to log in, not pass.
    result = subprocess.run([str(ROOT / PUBLISH)], capture_output=True, text=True,
                            env={**clean, "REGISTRY": "127.0.0.1:9", **env}, timeout=30, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "building" not in result.stderr and "Login" not in result.stdout


class _BrokenRegistry(http.server.BaseHTTPRequestHandler):
    """A registry that lets the client log in, then fails every manifest request with 500."""

    def handle(self):
        # The client tries HTTPS first; answering plain HTTP, as the distribution registry does,
        # makes it fall back to HTTP.
        if self.connection.recv(1, socket.MSG_PEEK) == b"\x16":
            self.connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            return
        super().handle()

    def do_GET(self):
        self.send_response(200 if self.path == "/v2/" else 500)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


def test_an_answer_other_than_absent_stops_it_before_building():
    # A failing registry must not be taken for one that lacks the tag: that would build and
    # push over a tag that may exist.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "REGISTRY": address, "OWNER": OWNER, "REGISTRY_USER": "ci", "REGISTRY_TOKEN": TOKEN}
    env.pop("DOCKER_CONFIG", None)
    env.pop("GITHUB_OUTPUT", None)
    try:
        result = subprocess.run([str(ROOT / PUBLISH)], capture_output=True, text=True, env=env, timeout=60, check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert "Login Succeeded" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 1
    assert f"cannot tell whether the registry has {address}/{PATH_IN_REGISTRY}:" in result.stderr
    assert "building" not in result.stderr
