"""Filters that read /opt/library/releases.log: one JSON object a line, one line per deploy,
rollback or restore (roles/library/tasks/release/record_release.yml writes them), e.g.

    {"time": "2026-11-30T10:15:00Z", "revision": "0123...cdef", "result": "ok",
     "deployer": "github:octocat/run/42", "digest": "sha256:ab12...", "kind": "deploy",
     "restore_point": {"name": "before-0123456789ab-20261130T101400Z", "time": "2026-11-30T10:14:00Z"}}

(one line in the file). result is ok or failed; kind is deploy, rollback (rollback.yml) or
restore (restore.yml: the database was restored, the release stayed). Optional: restore_point,
the point a release marked before its migrations; restored_from, what a restore went back to
(a time, a backup's label or "latest"). digest is "" when none was known.

Each filter takes the log's text and its path, which an error names: a line that is not such a
record stops the play with one message naming the file and the line, never a traceback.

- library_releases: the records, oldest first.
- library_recorded_digest: the image digest the newest successful release of a revision ran,
  "" when none is recorded (a rollback pulls it by that digest, never by what the tag says now).
- library_history: the releases that ran, oldest first, as a stack: a deploy pushes its
  revision, a rollback to V drops everything after V's last place (or pushes V when it was never
  there). Its last item runs now; the one before it is what a rollback goes back to, so two
  rollbacks go back twice and never forward.

And the filters that write such a record (record_release.yml, through
roles/library/vars/main.yml's library_release_record):

- library_release_record: the record of this release.
- library_restore_from: what a restore went back to: a time (UTC, with a T), a backup, or
  "latest".
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError

REQUIRED = ("time", "revision", "result", "deployer", "digest", "kind")
RESULTS = ("ok", "failed")
KINDS = ("deploy", "rollback", "restore")


class ReleasesLogError(AnsibleFilterError):
    """A line of releases.log that is not a release record."""


def library_releases(text: str, source: str) -> list[dict]:
    return [release_record(line, source, number)
            for number, line in enumerate((text or "").splitlines(), start=1) if line.strip()]


def release_record(line: str, source: str, number: int) -> dict:
    try:
        record = json.loads(line)
    except ValueError as error:
        raise ReleasesLogError(f"{source} line {number} is not JSON ({error.msg}): {line[:120]}") from None
    problem = record_problem(record)
    if problem:
        raise ReleasesLogError(f"{source} line {number} is not a release record ({problem}): {line[:120]}")
    return record


def record_problem(record) -> str:
    """What makes a parsed line no release record, "" when nothing does."""
    if not isinstance(record, dict):
        return "not an object"
    missing = [field for field in REQUIRED if not isinstance(record.get(field), str)]
    if missing:
        return "missing or not text: " + ", ".join(missing)
    if record["result"] not in RESULTS:
        return f"result {record['result']!r} is not one of {', '.join(RESULTS)}"
    if record["kind"] not in KINDS:
        return f"kind {record['kind']!r} is not one of {', '.join(KINDS)}"
    return ""


def library_history(text: str, source: str) -> list[str]:
    stack: list[str] = []
    for release in library_releases(text, source):
        if release["result"] != "ok" or release["kind"] == "restore":
            continue
        revision = release["revision"]
        if release["kind"] == "rollback" and revision in stack:
            del stack[len(stack) - stack[::-1].index(revision):]
        elif not stack or stack[-1] != revision:
            stack.append(revision)
    return stack


def library_recorded_digest(text: str, source: str, revision: str) -> str:
    recorded = [r["digest"] for r in library_releases(text, source)
                if r["revision"] == revision and r["result"] == "ok" and r["digest"].startswith("sha256:")]
    return recorded[-1] if recorded else ""


def sql_time(value: str) -> str:
    """PostgreSQL's "YYYY-MM-DD HH:MM:SS" (UTC) as the log's time."""
    return value.replace(" ", "T") + "Z"


def library_release_record(kind: str, *, time: str, revision: str, result: str, deployer: str, digest: str,
                           restore_point: dict | None, restore_point_name: str, restored_from: str) -> dict:
    """restore_point: the registered result of the task that marked one before the migrations
    (web.yml): its second line of output is the point's time; skipped or absent: none."""
    record = {"time": time, "revision": revision, "result": result, "deployer": deployer.strip(),
              "digest": digest, "kind": kind}
    marked = (restore_point or {}).get("stdout_lines") or []
    if len(marked) > 1:
        record["restore_point"] = {"name": restore_point_name, "time": sql_time(marked[1])}
    if kind == "restore":
        record["restored_from"] = restored_from
    return record


def library_restore_from(restore_at: str, restore_backup: str) -> str:
    return sql_time(restore_at) if restore_at else restore_backup or "latest"


class FilterModule:
    def filters(self):
        return {"library_releases": library_releases, "library_history": library_history,
                "library_recorded_digest": library_recorded_digest,
                "library_release_record": library_release_record, "library_restore_from": library_restore_from}
