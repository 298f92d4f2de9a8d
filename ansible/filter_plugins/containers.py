"""What the role reads from a host's containers (library_host.containers: docker_host_info's
list, as the Docker API gives it: Names with a leading "/", State, Labels) and from the proxy's
upstream file (roles/library/vars/main.yml names the results):

- library_container_named: whether a container of that name is there (library_first_deploy:
  no proxy yet), or running (library_db_running).
- library_web_containers: compose's web containers (library_web_before).
- library_running_names: the names of those running, without the "/" (library_web_running).
- library_upstream_named: the web container the upstream file sends traffic to ("" = none).
"""

from __future__ import annotations

import base64
import re

UPSTREAM = re.compile(r"^to ([^:\s]+):8000", re.MULTILINE)


def names_of(container: dict) -> list[str]:
    names = container.get("Names") or []
    return [names] if isinstance(names, str) else list(names)


def is_running(container: dict) -> bool:
    return container.get("State") == "running"


def library_container_named(containers: list[dict], name: str, running: bool = False) -> bool:
    return any("/" + name in names_of(c) for c in containers or [] if not running or is_running(c))


def library_web_containers(containers: list[dict]) -> list[dict]:
    return [c for c in containers or [] if (c.get("Labels") or {}).get("com.docker.compose.service", "") == "web"]


def library_running_names(containers: list[dict]) -> list[str]:
    # A container's first name is its own (the API lists links' aliases after it).
    return [re.sub(r"^/", "", names_of(c)[0]) for c in containers or [] if is_running(c)]


def library_upstream_named(slurped: dict | None) -> str:
    """slurped: the slurp module's result for the upstream file (its content in base64), or
    none when the file was not read."""
    content = (slurped or {}).get("content") or ""
    found = UPSTREAM.search(base64.b64decode(content).decode("utf-8", "surrogateescape"))
    return found.group(1) if found else ""


class FilterModule:
    def filters(self):
        return {
            "library_container_named": library_container_named,
            "library_web_containers": library_web_containers,
            "library_running_names": library_running_names,
            "library_upstream_named": library_upstream_named,
        }
