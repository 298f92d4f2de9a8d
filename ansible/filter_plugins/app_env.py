"""app_env_file: library_app_env as lines of the env file compose reads for web and migrate.

Each value is single-quoted: compose's env_file format then takes it as it is, with no `$`
interpolation and no escapes but \\' (a quote inside the quotes). What that format cannot say
safely is refused with the name of the variable: a single quote, a line break or a closing
backslash in a value, a key that is no environment variable name, a value that is no string,
number or bool, and a variable the stack sets itself (its `environment:` would win over the
file, so the inventory's value would be silently ignored). The preflight reports the same
problems (app_env_problems) before any host is touched.

library_app_env_reserved: the names library_app_env cannot set, from the variables compose.yaml
gives web and migrate itself: those, their NAME_FILE forms, and the build information the image
carries."""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError

NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


def app_env_problems(app_env, reserved=()) -> list[str]:
    """One line per entry the env file cannot carry, naming it ([] when all can)."""
    if not isinstance(app_env, dict):
        return [f"library_app_env must be a dict of NAME: value, not {json.dumps(app_env, default=str)}"]
    return [problem for name, value in sorted(app_env.items(), key=lambda item: str(item[0]))
            if (problem := _entry_problem(name, value, reserved))]


def _entry_problem(name, value, reserved) -> str:
    where = f"library_app_env.{name}"
    if not isinstance(name, str) or not NAME.match(name):
        return (f"{where}: the key must be an environment variable name "
                "(capitals, digits and _, not starting with a digit)")
    if name in reserved:
        return f"{where}: the stack sets {name} itself (its own inventory variable); it cannot be set here"
    if not isinstance(value, (str, int, float)):  # bool is an int
        return f"{where} must be a string, number or bool (got a {type(value).__name__})"
    text = _text(value)
    if "'" in text or "\n" in text or "\r" in text or text.endswith("\\"):
        return f"{where} cannot hold a single quote or a line break, nor end with a backslash"
    return ""


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def app_env_file(app_env: dict, reserved: list[str] | None = None) -> str:
    problems = app_env_problems(app_env, reserved or [])
    if problems:
        raise AnsibleFilterError("; ".join(problems))
    return "".join(f"{name}='{_text(value)}'\n" for name, value in sorted(app_env.items()))


BUILD_INFO = ["LIBRARY_VERSION", "LIBRARY_REVISION", "LIBRARY_BUILT"]


def library_app_env_reserved(stack_env: list[str]) -> list[str]:
    return list(stack_env) + [name + "_FILE" for name in stack_env] + BUILD_INFO


class FilterModule:
    def filters(self):
        return {"app_env_file": app_env_file, "library_app_env_reserved": library_app_env_reserved}
