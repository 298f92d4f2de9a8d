"""Filters that read /opt/library/releases.log, one line per deploy:

    TIME REVISION RESULT WHO DIGEST [rollback|restore] [KEY=VALUE ...]

e.g. `2026-11-30T10:15:00Z 0123...cdef ok ci:octocat/run/42 sha256:ab12... rollback`
(older lines may stop after RESULT or DIGEST). RESULT is ok or failed; a line with `rollback`
was written by rollback.yml, one with `restore` by restore.yml (the database was restored;
the release stayed). KEY=VALUE words add details: restore-point=NAME@TIME (the release marked it
before its migrations), from=... (what a restore went back to).

- library_releases: the lines as dicts.
- library_recorded_digest: the image digest the newest successful release of a revision ran,
  "" when none is recorded (a rollback pulls it by that digest, never by what the tag says now).
- library_history: the releases that ran, oldest first, as a stack: a deploy pushes its
  revision, a rollback to V drops everything after V's last place (or pushes V when it was never
  there). Its last item runs now; the one before it is what a rollback goes back to, so two
  rollbacks go back twice and never forward.
"""

from __future__ import annotations

FIELDS = ("time", "revision", "result", "who", "digest", "action")


def library_releases(text: str) -> list[dict[str, str]]:
    releases = []
    for line in (text or "").splitlines():
        words = line.split()
        if len(words) < 3 or words[2] not in ("ok", "failed"):
            continue
        if len(words) == 4:  # TIME REVISION RESULT DIGEST (before WHO was recorded)
            words = [*words[:3], "-", words[3]]
        release = dict.fromkeys(FIELDS, "")
        release.update(zip(FIELDS[:5], words))
        for word in words[5:]:
            key, equals, value = word.partition("=")
            if equals:
                release[key] = value
            else:
                release["action"] = word
        release["action"] = release["action"] or "deploy"
        releases.append(release)
    return releases


def library_history(text: str) -> list[str]:
    stack: list[str] = []
    for release in library_releases(text):
        if release["result"] != "ok" or release["action"] == "restore":
            continue
        revision = release["revision"]
        if release["action"] == "rollback" and revision in stack:
            del stack[len(stack) - stack[::-1].index(revision):]
        elif not stack or stack[-1] != revision:
            stack.append(revision)
    return stack


def library_recorded_digest(text: str, revision: str) -> str:
    recorded = [r["digest"] for r in library_releases(text)
                if r["revision"] == revision and r["result"] == "ok" and r["digest"].startswith("sha256:")]
    return recorded[-1] if recorded else ""


class FilterModule:
    def filters(self):
        return {"library_releases": library_releases, "library_history": library_history,
                "library_recorded_digest": library_recorded_digest}
