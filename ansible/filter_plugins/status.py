"""Filters of status.yml (roles/library/tasks/operations/status.yml builds one row per host):

- library_service_states: the states of a service's containers (compose's, or a swarm's tasks
  on the node), one word each, from
  docker_host_info's container list: healthy, unhealthy, starting, running (no health check)
  or the container's state (exited, restarting...). One-off containers (`compose run`) are left
  out: they are commands, not the service.
- library_release_summary: one releases.log record (library_releases, which checked its fields)
  as one short line.
- library_duration: seconds as one short figure: 45s, 12m, 5h, 3d.
- library_drill_summary: a database's last restore drill (the backup host's drill.json entry,
  or None) as one short cell: "ok 3h ago (backup 5h old)", "FAILED 1h ago: why", "none yet".
- library_service_cells: the state cell of each service of the table (proxy, web, db): its
  containers' states joined with "+", "missing", "external" (a database the stack does not run)
  or "docker error" (the host's engine did not answer).
- library_status_rows: the hosts' rows (each host's library_status), a host without one (it did
  not answer) as "unreachable".
- library_table: rows (dicts with the same keys, in the order the columns are wanted) as a
  text table with a header; a list value is a cell of several lines.
"""

from __future__ import annotations

import re

from ansible.module_utils.parsing.convert_bool import boolean

HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def library_service_states(containers: list[dict], service: str) -> list[str]:
    states = []
    for container in containers or []:
        labels = container.get("Labels") or {}
        # compose's service label, or Swarm's PROJECT_SERVICE (a service's name has no "_")
        named = labels.get("com.docker.compose.service") or labels.get("com.docker.swarm.service.name", "").rpartition("_")[2]
        if named != service or labels.get("com.docker.compose.oneoff") == "True":
            continue
        state = container.get("State", "?")
        health = HEALTH.search(container.get("Status", ""))
        if state == "running" and health:
            state = health.group(1).replace("health: ", "")
        states.append(state)
    return sorted(states)


def library_release_summary(release: dict) -> str:
    words = [release["time"], release["revision"][:12], release["result"], release["deployer"]]
    if release["kind"] != "deploy":
        words.append(release["kind"])
    return " ".join(word for word in words if word)


def library_duration(seconds: int) -> str:
    seconds = max(int(seconds), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def library_drill_summary(result: dict | None, now: float) -> str:
    if not result:
        return "none yet"
    ago = library_duration(int(now) - int(result.get("time", 0)))
    if result.get("ok"):
        return f"ok {ago} ago (backup {library_duration(result.get('backup_age') or 0)} old)"
    return f"FAILED {ago} ago: {result.get('error', '?')}"


def library_table(rows: list[dict]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    cells = [[column.upper() for column in columns]]
    cells += [[row.get(column, "-") for column in columns] for row in rows]
    cells = [[value if isinstance(value, list) else [str(value)] for value in line] for line in cells]
    widths = [max(len(text) for line in cells for text in line[i]) for i in range(len(columns))]
    out = []
    for line in cells:
        for n in range(max(len(value) for value in line)):
            texts = [value[n] if n < len(value) else "" for value in line]
            out.append("  ".join(text.ljust(width) for text, width in zip(texts, widths)).rstrip())
    return "\n".join(out)


SERVICES = ("proxy", "web", "db")


def library_service_cells(containers: list[dict], *, docker_failed: object, bundled_db: object) -> dict[str, str]:
    return {service: service_cell(containers, service, boolean(docker_failed, strict=False), boolean(bundled_db, strict=False))
            for service in SERVICES}


def service_cell(containers: list[dict], service: str, docker_failed: bool, bundled_db: bool) -> str:
    if docker_failed:
        return "docker error"
    if service == "db" and not bundled_db:
        return "external"
    return "+".join(library_service_states(containers, service)) or "missing"


def library_status_rows(hosts: list[str], hostvars) -> list[dict]:
    return [status_row(host, hostvars[host]) for host in hosts or []]


def status_row(host: str, variables) -> dict:
    return variables.get("library_status", {"host": host, "revision": "unreachable"})


class FilterModule:
    def filters(self):
        return {"library_service_states": library_service_states, "library_release_summary": library_release_summary,
                "library_table": library_table, "library_duration": library_duration,
                "library_drill_summary": library_drill_summary, "library_status_rows": library_status_rows,
                "library_service_cells": library_service_cells}
