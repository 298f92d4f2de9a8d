"""library_plan_entry: one host's part of make plan's report (plan.yml writes the list as
JSON; the stacks command prints it, tools/stacks/plan.py). From the host's variables after the
plan's plays: whether it is a new server (base/tasks/login.yml), whether provisioning would run
(provision.yml), and what the release would do (library/tasks/operations/plan.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def library_plan_entry(hostvars: Mapping[str, Any]) -> dict[str, Any]:
    def get(name: str, default: Any = None) -> Any:
        return hostvars[name] if name in hostvars else default

    first_contact = str(get("base_login_first_contact", False)).lower() == "true"
    return {
        "host": get("inventory_hostname"),
        "library": "library" in get("group_names", []),
        "first_contact": first_contact,
        "login": get("base_bootstrap_user", "") if first_contact else "",
        "provision": list(get("provision_roles", [])) if first_contact or get("provision_needed", False) else [],
        "revision": get("library_revision", ""),
        "engine": get("library_engine", "compose"),
        "release": dict(get("library_plan")) if get("library_plan") else None,
    }


class FilterModule:
    def filters(self):
        return {"library_plan_entry": library_plan_entry}
