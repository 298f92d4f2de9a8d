"""provision_stamp: one hash of everything that decides how base and docker set up a host.

site.yml writes it to /etc/library-provisioned after provisioning a host, and runs the base
and docker roles again only on hosts whose stamp differs: a change to a role's files (tasks,
templates, defaults) or to one of its variables (base_*, docker_* from the inventory or -e)
gives a new stamp. Secrets among the variables go into the hash only, never into the file.
What only checks the inventory on the controller (tasks/preflight.yml, meta/) changes nothing
on a host and is left out.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


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


class FilterModule:
    def filters(self):
        return {"provision_stamp": provision_stamp}
