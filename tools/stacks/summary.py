"""The GitHub job summary of an operation run by a workflow (GITHUB_STEP_SUMMARY set): what went
where, how long each playbook took, and how it ended. Nothing is written outside a runner."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def markdown(environ: Mapping[str, str], env_name: str, inventory: str, revision: str, outcome: str,
             times: Mapping[str, str], total: int, digest: str = "") -> str:
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    repository = environ.get("GITHUB_REPOSITORY", "")
    run_id = environ.get("GITHUB_RUN_ID", "")
    rows = [("revision", f"[`{revision}`]({server}/{repository}/commit/{revision})" if revision else "(previous release)")]
    if environ.get("LIBRARY_IMAGE"):
        rows.append(("image", f"`{environ['LIBRARY_IMAGE']}`"))
    if digest:
        rows.append(("digest", f"`{digest}`"))
    rows += [("inventory", f"`{inventory}`"), *((name, f"{seconds} s") for name, seconds in times.items()),
             ("total", f"{total} s"), ("run", f"[{run_id or 'local'}]({server}/{repository}/actions/runs/{run_id})")]
    return "\n".join([f"## {env_name}: {outcome}", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]) + "\n"


def append(environ: Mapping[str, str], text: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(text)
