"""The provisioning stamp (ansible/filter_plugins/provisioning.py): site.yml provisions a host
again exactly when its roles' files or their variables changed since it was provisioned."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "ansible/filter_plugins/provisioning.py"
spec = importlib.util.spec_from_file_location("provisioning", PLUGIN)
provisioning = importlib.util.module_from_spec(spec)
spec.loader.exec_module(provisioning)


def roles(tmp_path: Path) -> list[str]:
    for role, files in {"base": {"tasks/main.yml": "- name: a\n", "defaults/main.yml": "base_x: 1\n"},
                        "docker": {"tasks/main.yml": "- name: b\n"}}.items():
        for name, text in files.items():
            path = tmp_path / "roles" / role / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return [str(tmp_path / "roles/base"), str(tmp_path / "roles/docker")]


def test_the_same_roles_and_settings_give_the_same_stamp(tmp_path):
    dirs = roles(tmp_path)
    settings = {"base_firewall": True, "docker_users": ["deploy"]}
    stamp = provisioning.provision_stamp(settings, dirs)
    assert len(stamp) == 64
    assert provisioning.provision_stamp(dict(reversed(settings.items())), list(reversed(dirs))) == stamp


def test_a_changed_variable_gives_a_new_stamp(tmp_path):
    dirs = roles(tmp_path)
    before = provisioning.provision_stamp({"base_firewall": True}, dirs)
    assert provisioning.provision_stamp({"base_firewall": False}, dirs) != before
    assert provisioning.provision_stamp({"base_firewall": True, "docker_users": []}, dirs) != before


def test_a_changed_role_file_gives_a_new_stamp(tmp_path):
    dirs = roles(tmp_path)
    before = provisioning.provision_stamp({}, dirs)
    (tmp_path / "roles/docker/tasks/main.yml").write_text("- name: b, changed\n", encoding="utf-8")
    assert provisioning.provision_stamp({}, dirs) != before


def test_a_new_role_file_gives_a_new_stamp(tmp_path):
    dirs = roles(tmp_path)
    before = provisioning.provision_stamp({}, dirs)
    (tmp_path / "roles/base/templates").mkdir()
    (tmp_path / "roles/base/templates/x.j2").write_text("", encoding="utf-8")
    assert provisioning.provision_stamp({}, dirs) != before


def test_a_file_moved_between_roles_gives_a_new_stamp(tmp_path):
    dirs = roles(tmp_path)
    before = provisioning.provision_stamp({}, dirs)
    (tmp_path / "roles/base/defaults/main.yml").rename(tmp_path / "roles/docker/main.yml")
    assert provisioning.provision_stamp({}, dirs) != before


def test_what_only_checks_the_inventory_leaves_the_stamp_alone(tmp_path):
    dirs = roles(tmp_path)
    before = provisioning.provision_stamp({}, dirs)
    for name in ("tasks/preflight.yml", "meta/argument_specs.yml"):
        (tmp_path / "roles/base" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "roles/base" / name).write_text("- name: a check\n", encoding="utf-8")
    assert provisioning.provision_stamp({}, dirs) == before
