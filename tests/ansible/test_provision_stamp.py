"""The provisioning stamp (ansible/filter_plugins/provisioning.py): site.yml provisions a host
again exactly when its roles' files or their variables changed since it was provisioned."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest

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


def test_the_settings_are_the_roles_variables_and_the_swarms_peers_when_in_one():
    assert provisioning.provision_settings(["base_a", "docker_b"], [1, [2]], []) == {"base_a": 1, "docker_b": [2]}
    assert provisioning.provision_settings(["base_a"], [1], ["10.0.0.1"]) == {"base_a": 1, "swarm_peers": ["10.0.0.1"]}
    assert provisioning.provision_settings([], [], []) == {}


def slurped(text: str) -> dict:
    return {"content": base64.b64encode(text.encode()).decode()}


@pytest.mark.parametrize(("stamp_file", "reprovision", "run_tags", "needed"), [
    (slurped("abc\n"), False, ["all"], False),
    (slurped("abd\n"), False, ["all"], True),  # another stamp
    ({"failed": True}, False, ["all"], True),  # no stamp file yet
    (None, False, ["all"], True),
    (slurped("abc"), False, ["release"], True),  # --tags: what it names runs
    (slurped("abc"), "true", ["all"], True),
    (slurped("abc"), "false", ["all"], False),
])
def test_a_host_is_provisioned_when_asked_or_limited_by_tags_or_its_stamp_differs(stamp_file, reprovision, run_tags, needed):
    assert provisioning.provision_needed("abc", stamp_file, reprovision=reprovision, run_tags=run_tags) is needed
