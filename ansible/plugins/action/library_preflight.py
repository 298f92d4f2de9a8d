"""Action library_preflight: one role's inventory checks (ansible/plugins/preflight_checks.py),
on the controller, before any host is touched. Fails with every problem on one line.

    - name: Check the library variables
      library_preflight:
        role: library  # base, docker or library
        spec_errors: "{{ library_spec.argument_errors | default([]) }}"
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path

from ansible.errors import AnsibleError, AnsibleUndefinedVariable
from ansible.plugins.action import ActionBase

# A plain module beside the plugin folders (not a plugin itself): tests import it directly, and
# Ansible's loaders would not resolve a relative import.
_CHECKS_NAME = "stacks_preflight_checks"
if _CHECKS_NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        _CHECKS_NAME, Path(__file__).resolve().parents[1] / "preflight_checks.py")
    sys.modules[_CHECKS_NAME] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_CHECKS_NAME])
checks = sys.modules[_CHECKS_NAME]


class RenderedVars(Mapping):
    """Task variables rendered one at a time, when a check asks for them: a variable whose
    template names something undefined (a key missing from the vault) is absent, and its own
    check reports it, instead of the whole task failing on a template error."""

    def __init__(self, templar, variables):
        self._templar = templar
        self._variables = variables
        self._rendered = {}

    def __getitem__(self, name):
        if name not in self._rendered:
            if name not in self._variables:
                raise KeyError(name)
            try:
                self._rendered[name] = self._templar.template(self._variables[name])
            except AnsibleUndefinedVariable:
                raise KeyError(name) from None
        return self._rendered[name]

    def __iter__(self):
        return iter(self._variables)

    def __len__(self):
        return len(self._variables)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("role", "spec_errors"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        role = self._task.args.get("role")
        if role not in ("base", "docker", "library"):
            raise AnsibleError(f"library_preflight: role must be base, docker or library, not {role!r}")
        variables = RenderedVars(self._templar, task_vars)
        if role == "library":
            groups = task_vars.get("groups", {})
            problems = checks.library_problems(variables, groups, self._library_hosts(groups, task_vars))
        else:
            problems = getattr(checks, f"{role}_problems")(variables)
        problems = checks.report(role, list(self._task.args.get("spec_errors") or []), problems)
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = "; ".join(problems)
        else:
            result["msg"] = f"The {role} variables passed their checks"
        return result

    def _library_hosts(self, groups, task_vars):
        """What the checks compare across library hosts: each one's own library_engine and
        swarm_node_labels, where its inventory sets them."""
        hostvars = task_vars.get("hostvars", {})
        hosts = {}
        for host in groups.get("library", []):
            own = hostvars[host]
            hosts[host] = {name: self._templar.template(own[name])
                           for name in ("library_engine", "swarm_node_labels") if name in own}
        return hosts
