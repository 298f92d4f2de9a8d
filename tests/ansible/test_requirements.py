"""ansible/requirements.yml names exactly the collections the playbooks, roles and ansible.cfg
use, each at the version the root uv.lock's `ansible` package installs: a new collection in a
task, or a lock bump that moves a collection's version, fails here until the file says so.
The scanner and the version check also run on samples, so each is shown able to fail."""

from __future__ import annotations

import importlib.metadata
import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "ansible"
REQUIREMENTS = ANSIBLE_DIR / "requirements.yml"
# Collections that come with ansible-core itself, never from a requirements file.
CORE = {"ansible.builtin", "ansible.legacy"}

NAME = r"[a-z_][a-z0-9_]*"
FQCN = re.compile(rf"{NAME}\.{NAME}\.{NAME}")
# In Jinja: a filter (`| ns.coll.f`), a test (`is ns.coll.t`), a lookup (`lookup('ns.coll.l'`).
INLINE = re.compile(rf"(?:\|\s*|\bis\s+(?:not\s+)?|\b(?:lookup|query|q)\(\s*['\"])({FQCN.pattern})\b")
# Keys whose value is a plugin or module name.
NAMING_KEYS = {"plugin", "action", "local_action"}


class _AnyTagLoader(yaml.SafeLoader):
    """Reads Ansible's own tags (!unsafe, !vault) as plain values."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, _tag, node: loader.construct_scalar(node)
                                    if isinstance(node, yaml.ScalarNode) else None)


def _names_in_yaml(data) -> set[str]:
    names: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and FQCN.fullmatch(key):
                names.add(key)  # a task's module: `community.docker.docker_container:`
            if key in NAMING_KEYS and isinstance(value, str) and value.split():
                names.add(value.split()[0])
            if key == "collections" and isinstance(value, list):
                names |= {f"{item}.x" for item in value if isinstance(item, str)}
            names |= _names_in_yaml(value)
    elif isinstance(data, list):
        for item in data:
            names |= _names_in_yaml(item)
    elif isinstance(data, str):
        names |= set(INLINE.findall(data))
    return names


def _names_in_cfg(text: str) -> set[str]:
    names = set(INLINE.findall(text))
    for line in text.splitlines():
        _, sep, value = line.partition("=")
        if sep:
            names |= {v.strip() for v in value.split(",") if FQCN.fullmatch(v.strip())}
    return names


def used_collections(directory: Path) -> set[str]:
    """Every collection (namespace.name) a file under `directory` uses, ansible-core's aside."""
    names: set[str] = set()
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.suffix not in (".yml", ".yaml", ".cfg", ".j2"):
            continue  # Python (a plugin's __pycache__ too) names no collection
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yml", ".yaml"):
            for document in yaml.load_all(text, Loader=_AnyTagLoader):
                names |= _names_in_yaml(document)
        elif path.suffix == ".cfg":
            names |= _names_in_cfg(text)
        elif path.suffix == ".j2":
            names |= set(INLINE.findall(text))
    return {".".join(name.split(".")[:2]) for name in names} - CORE


def listed_collections(path: Path = REQUIREMENTS) -> dict[str, object]:
    return {entry["name"]: entry.get("version") for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["collections"]}


def installed_version(collection: str) -> str | None:
    """The version of a collection installed with the `ansible` package of this virtualenv."""
    manifest = Path(importlib.metadata.distribution("ansible").locate_file("ansible_collections"))
    manifest = manifest.joinpath(*collection.split("."), "MANIFEST.json")
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]


def version_problems(listed: dict[str, object], installed=installed_version) -> list[str]:
    problems = []
    for name, version in sorted(listed.items()):
        actual = installed(name)
        if actual is None:
            problems.append(f"{name}: not installed by the ansible package")
        elif version != actual:
            problems.append(f"{name}: requirements.yml says {version!r}, the lock installs {actual!r}")
    return problems


def test_every_collection_the_playbooks_use_is_listed_and_nothing_more():
    used = used_collections(ANSIBLE_DIR)
    assert "community.docker" in used  # the scanner sees the roles' modules
    assert set(listed_collections()) == used


def test_each_listed_version_is_the_one_the_lock_installs():
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {p["name"]: p["version"] for p in lock["package"]}["ansible"]
    # The collections are read from this virtualenv: it must hold what the lock pins.
    assert importlib.metadata.version("ansible") == locked, "the .venv is not synced to uv.lock: make venv"
    assert version_problems(listed_collections()) == []


def test_the_scanner_finds_modules_filters_lookups_and_config_plugins(tmp_path):
    (tmp_path / "roles" / "r" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "r" / "templates").mkdir()
    (tmp_path / "roles" / "r" / "tasks" / "main.yml").write_text(
        "---\n"
        "- name: A module\n  community.general.ufw:\n    rule: allow\n"
        "- name: A filter and a lookup\n  ansible.builtin.debug:\n"
        "    msg: \"{{ x | community.crypto.split_pem }} {{ lookup('community.hashi_vault.hashi_vault', 'p') }}\"\n"
        "  when: result.stat.exists and x is community.internal.ok\n"
        "- name: Not a collection\n  ansible.builtin.set_fact:\n    y: !unsafe \"{{ a.b.c }}\"\n",
        encoding="utf-8")
    (tmp_path / "roles" / "r" / "templates" / "x.j2").write_text("{{ address | ansible.utils.ipaddr }}\n", encoding="utf-8")
    (tmp_path / "ansible.cfg").write_text(
        "[defaults]\nstdout_callback = ansible.builtin.default\ncallbacks_enabled = ansible.posix.profile_tasks\n",
        encoding="utf-8")
    assert used_collections(tmp_path) == {
        "community.general", "community.crypto", "community.hashi_vault", "community.internal",
        "ansible.utils", "ansible.posix"}


def test_a_version_the_lock_does_not_install_is_named():
    installed = {"community.docker": "4.8.5"}.get
    assert version_problems({"community.docker": "4.8.5"}, installed) == []
    assert version_problems({"community.docker": "4.8.4", "community.general": "11.0.0"}, installed) == [
        "community.docker: requirements.yml says '4.8.4', the lock installs '4.8.5'",
        "community.general: not installed by the ansible package",
    ]
