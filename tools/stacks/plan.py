"""What `make plan` prints: plan.yml's report (one entry per host, ansible/filter_plugins/plan.py)
as a few lines per host, and "no changes" when a deploy would change nothing anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# `manage.py migrate --plan` names each migration alone on a line: "app_label.0002_name".
_MIGRATION = re.compile(r"^\s*([a-z_][a-z0-9_]*)\.(\d{4}\w*)\s*$")


def migrations(migrate_plan: str) -> list[str]:
    return [f"{m.group(1)}.{m.group(2)}" for m in map(_MIGRATION.match, migrate_plan.splitlines()) if m]


def host_changes(entry: Mapping[str, Any]) -> list[str]:
    """What a deploy would do on one host, a line each; [] when nothing."""
    if entry["first_contact"]:
        return [f"new server: log in as {entry['login']}, make the deploy user and the admins, "
                f"apply {' and '.join(entry['provision']) or 'base'}"
                + (f", then its first release, {entry['revision'][:12]}" if entry["library"] else "")]
    lines = []
    if entry["provision"]:
        lines.append(f"provision: {' and '.join(entry['provision'])} (stamp missing or changed; check mode above)")
    release = entry.get("release")
    if release:
        for path in release["files"]:
            lines.append(f"write {path}")
        if release["restart_web"] and release["image_now"] == release["image_after"]:
            lines.append("web: a new container with the new settings, start-first")
        elif release["restart_web"]:
            lines.append(f"web: {release['image_now'] or '(none)'} -> {release['image_after']}, start-first")
            found = migrations(release.get("migrate_plan", ""))
            lines.append(f"migrate: {', '.join(found)}" if found else "migrate: nothing to apply")
        for service in release["services_down"]:
            lines.append(f"start {service} (not running)")
    elif entry["library"] and entry["engine"] != "compose":
        lines.append(f"engine {entry['engine']}: the release itself is not planned")
    return lines


def describe(report: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = []
    for entry in report:
        changes = host_changes(entry)
        lines.append(f"{entry['host']}: {'no changes' if not changes else ''}".rstrip())
        lines += [f"  {change}" for change in changes]
    if all(line.endswith(": no changes") for line in lines):
        lines.append("plan: no changes")
    return lines
