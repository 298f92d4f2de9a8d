"""The release history behind rollback.yml and pruning (ansible/filter_plugins):
which release a rollback goes back to, read from releases.log lines as the role writes them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "ansible/filter_plugins/releases.py"
spec = importlib.util.spec_from_file_location("releases", PLUGIN)
releases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(releases)

DIGEST = "sha256:" + "ab" * 32


def log(*entries: str) -> str:
    """Lines for ("A", "ok"), ("B", "failed"), ("A", "ok", "rollback") ... entries."""
    lines = []
    for number, entry in enumerate(entries):
        revision, result, *action = entry.split()
        lines.append(f"2026-11-30T10:{number:02d}:00Z {revision} {result} ci:tester/run/{number} {DIGEST} {' '.join(action)}".rstrip())
    return "\n".join(lines) + "\n"


def test_a_deploy_pushes_and_a_failed_one_does_not():
    assert releases.library_history(log("A ok", "B ok", "C failed")) == ["A", "B"]


def test_a_rerun_of_the_running_release_is_not_a_new_one():
    assert releases.library_history(log("A ok", "A ok", "B ok")) == ["A", "B"]


def test_two_rollbacks_go_back_twice_never_forward():
    text = log("A ok", "B ok", "C ok")
    history = releases.library_history(text)
    assert history[-2] == "B"  # the first rollback's target
    text += log("B ok rollback")
    history = releases.library_history(text)
    assert history == ["A", "B"] and history[-2] == "A"  # the second goes further back
    text += log("A ok rollback")
    assert releases.library_history(text) == ["A"]  # nothing left to go back to


def test_a_deploy_after_a_rollback_starts_from_where_it_went_back_to():
    assert releases.library_history(log("A ok", "B ok", "A ok rollback", "C ok")) == ["A", "C"]


def test_an_explicit_rollback_to_an_old_release_drops_what_came_after_it():
    assert releases.library_history(log("A ok", "B ok", "C ok", "D ok", "B ok rollback")) == ["A", "B"]


def test_a_rollback_to_a_release_never_run_here_is_pushed():
    assert releases.library_history(log("A ok", "B ok", "X ok rollback")) == ["A", "B", "X"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"2026-11-30T10:00:00Z A ok someone {DIGEST}",
         {"revision": "A", "result": "ok", "who": "someone", "digest": DIGEST, "action": "deploy"}),
        (f"2026-11-30T10:00:00Z A ok {DIGEST}",  # before WHO was recorded
         {"revision": "A", "result": "ok", "who": "-", "digest": DIGEST, "action": "deploy"}),
        ("2026-11-30T10:00:00Z A failed",
         {"revision": "A", "result": "failed", "who": "", "digest": "", "action": "deploy"}),
    ],
)
def test_every_line_format_the_log_has_held_is_read(line, expected):
    (release,) = releases.library_releases(line + "\n\nnot a release\n")
    assert {k: release[k] for k in expected} == expected


def test_a_rollback_takes_the_digest_its_release_ran_with():
    other = "sha256:" + "cd" * 32
    text = log("A ok", "B ok").replace(DIGEST, other, 1) + log("B failed").replace(DIGEST, "sha256:" + "ee" * 32)
    # A ran as `other`; B's newest successful line names DIGEST (the failed one is not taken).
    assert releases.library_recorded_digest(text, "A") == other
    assert releases.library_recorded_digest(text, "B") == DIGEST
    assert releases.library_recorded_digest(text, "C") == ""
