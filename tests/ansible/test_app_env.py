"""library_app_env: the app's settings as the env file compose reads for web and migrate
(ansible/filter_plugins/app_env.py, roles/library/templates/opt/library/app.env.j2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ansible" / "filter_plugins"))

from ansible.errors import AnsibleFilterError
from app_env import app_env_file


def test_values_are_single_quoted_sorted_lines():
    assert app_env_file({"LOG_LEVEL": "DEBUG", "LIBRARY_MAX_OPEN_LOANS": 10,
                         "FLAG": True, "RATE": "60/minute", "EMPTY": ""}) == (
        "EMPTY=''\nFLAG='true'\nLIBRARY_MAX_OPEN_LOANS='10'\nLOG_LEVEL='DEBUG'\n"
        "RATE='60/minute'\n")


def test_nothing_is_interpolated_or_escaped():
    """compose reads a single-quoted value as it is: no $VAR, no backslash escapes."""
    assert app_env_file({"X": "a$HOME\\n #b"}) == "X='a$HOME\\n #b'\n"


def test_no_settings_no_lines():
    assert app_env_file({}) == ""


@pytest.mark.parametrize(("app_env", "says"), [
    ({"log_level": "DEBUG"}, "library_app_env.log_level: the key must be an environment variable name"),
    ({"1X": "a"}, "library_app_env.1X: the key must be"),
    ({"X": "it's"}, "library_app_env.X cannot hold a single quote or a line break"),
    ({"X": "a\nY=b"}, "library_app_env.X cannot hold a single quote or a line break"),
    ({"X": "a\\"}, "library_app_env.X cannot hold a single quote or a line break, nor end"),
    ({"X": ["a"]}, "library_app_env.X must be a string, number or bool (got a list)"),
    ({"X": None}, "library_app_env.X must be a string, number or bool (got a NoneType)"),
    ({"DATABASE_URL": "postgres://x"}, "library_app_env.DATABASE_URL: the stack sets DATABASE_URL itself"),
])
def test_what_the_file_cannot_say_safely_is_refused_naming_it(app_env, says):
    with pytest.raises(AnsibleFilterError) as error:
        app_env_file(app_env, reserved=["DATABASE_URL"])
    assert str(error.value).startswith(says)


def test_a_list_is_no_dict():
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        app_env_file(["LOG_LEVEL=DEBUG"])


PLAY = """
- hosts: localhost
  gather_facts: false
  vars_files: [{root}/ansible/roles/library/vars/main.yml]
  tasks:
    - ansible.builtin.debug:
        msg: "{{{{ {{'file': lookup('ansible.builtin.template', '{root}/ansible/roles/library/templates/opt/library/app.env.j2'),
                   'reserved': library_app_env_reserved}} }}}}"
"""


def test_the_role_renders_the_file_and_reserves_what_compose_sets(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(root=ROOT))
    extra = {"library_compose_src": str(ROOT / "compose"),
             "library_app_env": {"LIBRARY_MAX_OPEN_LOANS": 10, "LOG_LEVEL": "DEBUG"}}
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "ANSIBLE_FILTER_PLUGINS": str(ROOT / "ansible" / "filter_plugins"),
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-e", json.dumps(extra)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    msg = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    lines = [line for line in msg["file"].splitlines() if not line.startswith("#")]
    assert lines == ["LIBRARY_MAX_OPEN_LOANS='10'", "LOG_LEVEL='DEBUG'"]
    assert {"DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FILE", "DATABASE_URL", "CACHE_URL_FILE",
            "DJANGO_HTTPS", "LIBRARY_MAX_BODY_BYTES", "LIBRARY_VERSION"} <= set(msg["reserved"])
    assert "LIBRARY_MAX_OPEN_LOANS" not in msg["reserved"]


def test_the_swarm_stack_keeps_what_compose_read_from_app_env():
    """compose's config has app.env's values in `environment`; a leftover env_file (its long
    form is one `docker stack deploy` refuses) goes."""
    from swarm_stack import swarm_stack

    config = {"services": {"web": {"image": "app", "environment": {"LOG_LEVEL": "DEBUG"},
                                   "env_file": [{"path": "/opt/library/app.env", "required": False}]}}}
    web = swarm_stack(config)["services"]["web"]
    assert web["environment"] == {"LOG_LEVEL": "DEBUG"} and "env_file" not in web
