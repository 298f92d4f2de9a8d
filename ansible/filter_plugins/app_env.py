"""app_env_file: library_app_env as lines of the env file compose reads for web and migrate.

Each value is single-quoted: compose's env_file format then takes it as it is, with no `$`
interpolation and no escapes but \\' (a quote inside the quotes). What that format cannot say
safely is refused with the name of the variable: a single quote, a line break or a closing
backslash in a value, a key that is no environment variable name, a value that is no string,
number or bool, and a variable the stack sets itself (its `environment:` would win over the
file, so the inventory's value would be silently ignored)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


def app_env_file(app_env: dict, reserved: list[str] | None = None) -> str:
    if not isinstance(app_env, dict):
        raise AnsibleFilterError("library_app_env must be a dict of NAME: value")
    return "".join(f"{name}={_quoted(name, value, reserved or [])}\n"
                   for name, value in sorted(app_env.items()))


def _quoted(name, value, reserved: list[str]) -> str:
    where = f"library_app_env.{name}"
    if not isinstance(name, str) or not NAME.match(name):
        raise AnsibleFilterError(f"{where}: the key must be an environment variable name "
                                 "(capitals, digits and _, not starting with a digit)")
    if name in reserved:
        raise AnsibleFilterError(f"{where}: the stack sets {name} itself (its own inventory "
                                 "variable); it cannot be set here")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        raise AnsibleFilterError(f"{where} must be a string, number or bool "
                                 f"(got a {type(value).__name__})")
    if "'" in text or "\n" in text or "\r" in text or text.endswith("\\"):
        raise AnsibleFilterError(f"{where} cannot hold a single quote or a line break, "
                                 "nor end with a backslash")
    return f"'{text}'"


class FilterModule:
    def filters(self):
        return {"app_env_file": app_env_file}
