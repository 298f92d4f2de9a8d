"""provision_stamp: one hash of everything that decides how base and docker set up a host.

site.yml writes it to /etc/library-provisioned after provisioning a host, and runs the base
and docker roles again only on hosts whose stamp differs: a change to a role's files (tasks,
templates, defaults) or to one of its variables (base_*, docker_* from the inventory or -e)
gives a new stamp. Secrets among the variables go into the hash only, never into the file.
What only checks the inventory on the controller (tasks/preflight.yml, meta/) changes nothing
on a host and is left out.

provision_settings: the variables that go into it, {name: value}, with the swarm's peers when
the host is in a swarm (none with compose: its stamps stay as they were).
provision_needed: whether a host is provisioned in this run: asked for (reprovision), a run
limited by --tags (it applies what it names, whatever the stamp says), or a stamp missing from
the host's file (the slurp of /etc/library-provisioned, absent when it could not be read).
"""

from __future__ import annotations

import hashlib
import json
import base64
from pathlib import Path

from ansible.module_utils.parsing.convert_bool import boolean


def controller_only(path: Path) -> bool:
    return path.parts[0] == "meta" or path.as_posix() == "tasks/preflight.yml"


def provision_stamp(settings: dict, role_dirs: list[str]) -> str:
    digest = hashlib.sha256()
    for role_dir in sorted(role_dirs):
        root = Path(role_dir)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not controller_only(p.relative_to(root))):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def provision_settings(names: list[str], values: list, swarm_peers: list[str]) -> dict:
    settings = dict(zip(names, values))
    if swarm_peers:
        settings["swarm_peers"] = swarm_peers
    return settings


def provision_needed(stamp: str, stamp_file: dict | None, *, reprovision: object, run_tags: list[str]) -> bool:
    if boolean(reprovision, strict=False) or "all" not in run_tags:
        return True
    written = base64.b64decode((stamp_file or {}).get("content") or "").decode("utf-8", "surrogateescape")
    return stamp not in written


class FilterModule:
    def filters(self):
        return {"provision_stamp": provision_stamp, "provision_settings": provision_settings,
                "provision_needed": provision_needed}
