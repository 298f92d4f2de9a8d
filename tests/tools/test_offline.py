"""tools/offline/ holds everything that exists only for a machine whose Docker engine can pull
from no registry or that has no service manager: the product names only the official images,
one script picks the docker client, and the lab chooses its stack images in one place."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ROOT / "tools" / "offline"
DOCKER_CLIENT = OFFLINE / "docker-client"


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


# ---- the product shows no trace of the offline substitutes -----------------------------------

PRODUCT = ("app/Dockerfile", "compose/", "ansible/")
TRACES = ("base-image", "stand-in", "lab/postgres", "lab/caddy", "lab/valkey", "stacks-offline", "tools/offline",
          "no registry is reachable", "registry is reachable", "debootstrap", "/usr/bin/docker")


def test_the_product_names_only_the_official_images():
    found = []
    for path in tracked_files():
        name = path.relative_to(ROOT).as_posix()
        if not name.startswith(PRODUCT):
            continue
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        found += [f"{name}: {trace}" for trace in TRACES if trace in text]
    assert found == []


def test_the_compose_example_uses_official_images():
    example = (ROOT / "compose" / ".env.example").read_text(encoding="utf-8")
    assert "POSTGRES_IMAGE=postgres:17\n" in example
    assert "CADDY_IMAGE=caddy:2\n" in example
    assert "VALKEY_IMAGE=valkey/valkey:8.1\n" in example
    assert "FROM debian:trixie-slim AS" in (ROOT / "app" / "Dockerfile").read_text(encoding="utf-8")


def test_no_docker_client_path_is_pinned_outside_tools_offline():
    pinned = [path.relative_to(ROOT).as_posix() for path in tracked_files()
              if OFFLINE not in path.parents and path != Path(__file__).resolve()
              and "/usr/bin/docker" in path.read_text(encoding="utf-8", errors="replace")]
    assert pinned == []


def test_the_makefile_leaves_the_choice_of_client_to_the_scripts_that_run_docker():
    """make reads the Makefile before `make setup` installs the engine and its client: a client
    chosen then would be whatever docker a fresh machine had on PATH (a newer one without buildx,
    whose builds fail). The scripts ask tools/offline/docker-client when they run; DOCKER given
    by the person wins."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}

    def shown(extra):
        return subprocess.run(["make", "-s", "-C", str(ROOT), "--eval", 'show-docker: ; @echo "[$$DOCKER]"', "show-docker"],
                              capture_output=True, text=True, check=True, env={**env, **extra}).stdout.strip()

    assert shown({}) == "[]"
    assert shown({"DOCKER": "/opt/docker"}) == "[/opt/docker]"


# ---- docker-client ---------------------------------------------------------------------------

def fake_docker(directory: Path, version: str, buildx: bool) -> Path:
    directory.mkdir(parents=True)
    script = directory / "docker"
    script.write_text(
        "#!/bin/bash\n"
        f'[ "$1" = buildx ] && {{ {"exit 0" if buildx else "echo unknown command >&2; exit 1"}; }}\n'
        f'[ "$1" = version ] && {{ echo {version}; exit 1; }}\n'  # no engine: exit 1, client still printed
        "exit 2\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def docker_client(tmp_path: Path, *dirs: str, docker: str | None = None) -> str:
    # PATH: the fake clients, then only the tools the script needs (no real docker).
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for name in ("awk", "cut"):
        found = subprocess.run(["bash", "-c", f"command -v {name}"], capture_output=True, text=True, check=True)
        (tools / name).unlink(missing_ok=True)
        (tools / name).symlink_to(found.stdout.strip())
    path = ":".join([*(str(tmp_path / d) for d in dirs), str(tools)])
    env = {"PATH": path, **({"DOCKER": docker} if docker else {})}
    return subprocess.run(["/bin/bash", str(DOCKER_CLIENT)], capture_output=True, text=True, check=True,
                          env=env, timeout=30).stdout.strip()


def test_docker_client_skips_a_new_client_without_buildx(tmp_path):
    fake_docker(tmp_path / "new", "28.2.2", buildx=False)
    old = fake_docker(tmp_path / "old", "20.10.24+dfsg1", buildx=False)
    assert docker_client(tmp_path, "new", "old") == str(old)


def test_docker_client_takes_the_first_client_with_buildx(tmp_path):
    new = fake_docker(tmp_path / "new", "28.2.2", buildx=True)
    fake_docker(tmp_path / "old", "20.10.24+dfsg1", buildx=False)
    assert docker_client(tmp_path, "new", "old") == str(new)


def test_docker_client_falls_back_to_plain_docker_and_honours_DOCKER(tmp_path):
    fake_docker(tmp_path / "new", "28.2.2", buildx=False)
    assert docker_client(tmp_path, "new") == "docker"
    assert docker_client(tmp_path, "new", docker="/opt/docker") == "/opt/docker"


def test_base_image_refuses_an_unknown_STACKS_OFFLINE(tmp_path):
    fake_docker(tmp_path / "bin", "28.2.2", buildx=True)
    r = subprocess.run([str(OFFLINE / "base-image")], capture_output=True, text=True, timeout=30, check=False,
                       env={**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
                            "STACKS_OFFLINE": "yes", "DOCKER": str(tmp_path / "bin" / "docker")})
    assert r.returncode == 2
    assert "STACKS_OFFLINE must be 1, 0 or unset" in r.stderr


# ---- the lab's stack images: one choice, written where every playbook run reads it -----------

@pytest.fixture
def lab(tmp_path, monkeypatch):
    """deploy/lab/lab as a module, its .state/ in tmp_path, commands recorded, none run."""
    monkeypatch.setenv("DOCKER", "docker-for-tests")
    loader = importlib.machinery.SourceFileLoader("lab_tool", str(ROOT / "deploy" / "lab" / "lab"))
    spec = importlib.util.spec_from_loader("lab_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    module.STATE = tmp_path
    module.LAB_VARS = tmp_path / "secrets.yml"
    module.ran = []
    monkeypatch.setattr(module, "run", lambda *args, **kw: module.ran.append([str(a) for a in args]))
    # The secrets as deploy/lab/lab.yml makes them at first `up`, before the choice is written.
    module.LAB_VARS.write_text("# Lab-only secrets, generated by deploy/lab/lab at first `up`; gitignored.\n"
                               'vault_library_secret_key: "key-for-tests"\n'
                               'vault_library_db_password: "db-password-for-tests"\n'
                               'vault_library_admin_password: "admin-password-for-tests"\n')
    module.LAB_VARS.chmod(0o644)  # the choice is written owner-only whatever the file was
    return module


def test_the_lab_uses_the_official_pinned_images_when_they_can_be_pulled(lab, monkeypatch):
    monkeypatch.delenv("STACKS_OFFLINE", raising=False)
    monkeypatch.setattr(lab, "pulled", lambda image: True)
    chosen = lab.choose_stack_images()
    assert chosen == {"postgres": "postgres:17.6-trixie", "caddy": "caddy:2.10.2",
                      "valkey": "valkey/valkey:8.1.11-trixie", "pinned": True}
    assert lab.ran == []  # no stand-in built


def test_the_lab_falls_back_to_the_stand_ins_when_a_pull_fails(lab, monkeypatch):
    monkeypatch.delenv("STACKS_OFFLINE", raising=False)
    monkeypatch.setattr(lab, "pulled", lambda image: image.startswith("postgres"))
    chosen = lab.choose_stack_images()
    assert chosen == {"postgres": "stacks-offline/postgres:17", "caddy": "stacks-offline/caddy:2",
                      "valkey": "stacks-offline/valkey:8.1", "pinned": False}
    assert lab.ran == [[str(OFFLINE / "images" / "build")]]


def test_STACKS_OFFLINE_forces_either_choice(lab, monkeypatch):
    tried = []
    monkeypatch.setattr(lab, "pulled", lambda image: tried.append(image) or False)
    monkeypatch.setenv("STACKS_OFFLINE", "1")
    assert lab.choose_stack_images()["pinned"] is False
    assert tried == []  # no pull tried
    monkeypatch.setenv("STACKS_OFFLINE", "0")
    with pytest.raises(SystemExit):
        lab.choose_stack_images()
    monkeypatch.setenv("STACKS_OFFLINE", "maybe")
    with pytest.raises(SystemExit):
        lab.choose_stack_images()


def test_the_choice_lands_in_the_lab_vars_beside_the_secrets(lab):
    before = lab.LAB_VARS.read_text()
    lab.write_image_vars({"postgres": "stacks-offline/postgres:17", "caddy": "stacks-offline/caddy:2",
                          "valkey": "stacks-offline/valkey:8.1", "pinned": False})
    lab.write_image_vars({"postgres": "postgres:17.6-trixie", "caddy": "caddy:2.10.2",
                          "valkey": "valkey/valkey:8.1.11-trixie", "pinned": True})
    written = yaml.safe_load(lab.LAB_VARS.read_text())
    assert written["library_postgres_image"] == "10.77.0.2:5000/postgres:17.6-trixie"
    assert written["library_caddy_image"] == "10.77.0.2:5000/caddy:2.10.2"
    assert written["library_valkey_image"] == "10.77.0.2:5000/valkey:8.1.11-trixie"
    assert written["library_pin_third_party_images"] is True
    assert lab.LAB_VARS.read_text().count("library_postgres_image") == 1  # replaced, not appended
    for line in before.splitlines()[1:]:
        assert line in lab.LAB_VARS.read_text()  # the secrets are kept
    assert stat.S_IMODE(lab.LAB_VARS.stat().st_mode) == 0o600


def test_the_lab_inventory_leaves_the_stack_images_to_the_lab_tool():
    group_vars = (ROOT / "deploy" / "lab" / "group_vars" / "library" / "library.yml").read_text(encoding="utf-8")
    for key in ("library_postgres_image:", "library_caddy_image:", "library_valkey_image:",
                "library_pin_third_party_images:"):
        assert f"\n{key}" not in group_vars, key


def test_the_lab_tool_knows_the_hosts_of_the_lab_inventory(lab):
    inventory = yaml.safe_load((ROOT / "deploy" / "lab" / "inventory.yml").read_text(encoding="utf-8"))
    assert lab.HOSTS == {name: v["ansible_host"] for name, v in inventory["library"]["hosts"].items()}
