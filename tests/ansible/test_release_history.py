"""The release history behind rollback.yml and pruning (ansible/filter_plugins):
which release a rollback goes back to, read from releases.log lines as the role writes them
(one JSON object a line, roles/library/tasks/release/record_release.yml)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

PLUGIN = Path(__file__).resolve().parents[2] / "ansible/filter_plugins/releases.py"
spec = importlib.util.spec_from_file_location("releases", PLUGIN)
releases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(releases)

DIGEST = "sha256:" + "ab" * 32
SOURCE = "/opt/library/releases.log"


def record(number: int, revision: str, result: str = "ok", kind: str = "deploy", **extra) -> dict:
    return {"time": f"2026-11-30T10:{number:02d}:00Z", "revision": revision, "result": result,
            "deployer": f"ci tester/run/{number}", "digest": DIGEST, "kind": kind, **extra}


def log(*entries: str) -> str:
    """Lines for ("A ok", "B failed", "A ok rollback") ... entries."""
    lines = []
    for number, entry in enumerate(entries):
        revision, result, *kind = entry.split()
        lines.append(json.dumps(record(number, revision, result, *kind)))
    return "\n".join(lines) + "\n"


def history(text: str) -> list[str]:
    return releases.library_history(text, SOURCE)


def test_a_deploy_pushes_and_a_failed_one_does_not():
    assert history(log("A ok", "B ok", "C failed")) == ["A", "B"]


def test_a_rerun_of_the_running_release_is_not_a_new_one():
    assert history(log("A ok", "A ok", "B ok")) == ["A", "B"]


def test_two_rollbacks_go_back_twice_never_forward():
    text = log("A ok", "B ok", "C ok")
    assert history(text)[-2] == "B"  # the first rollback's target
    text += log("B ok rollback")
    assert history(text) == ["A", "B"] and history(text)[-2] == "A"  # the second goes further back
    text += log("A ok rollback")
    assert history(text) == ["A"]  # nothing left to go back to


def test_a_deploy_after_a_rollback_starts_from_where_it_went_back_to():
    assert history(log("A ok", "B ok", "A ok rollback", "C ok")) == ["A", "C"]


def test_an_explicit_rollback_to_an_old_release_drops_what_came_after_it():
    assert history(log("A ok", "B ok", "C ok", "D ok", "B ok rollback")) == ["A", "B"]


def test_a_rollback_to_a_release_never_run_here_is_pushed():
    assert history(log("A ok", "B ok", "X ok rollback")) == ["A", "B", "X"]


def test_a_restore_is_no_release():
    assert history(log("A ok", "B ok", "B ok restore")) == ["A", "B"]
    assert history(log("A ok", "B ok", "A ok restore")) == ["A", "B"]


def test_the_records_are_read_as_written_with_their_optional_fields():
    point = {"name": "before-0123456789ab-20261130T100000Z", "time": "2026-11-30T09:59:58Z"}
    written = [record(0, "A", restore_point=point), record(1, "A", kind="restore", restored_from="latest")]
    text = "\n".join(json.dumps(line) for line in written) + "\n\n"  # a blank line is skipped
    assert releases.library_releases(text, SOURCE) == written


def test_an_empty_or_missing_log_has_no_releases():
    assert releases.library_releases("", SOURCE) == [] and history(None) == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("2026-11-30T10:00:00Z A ok someone " + DIGEST, "line 2 is not JSON"),
        ('["A", "ok"]', "line 2 is not a release record (not an object)"),
        (json.dumps({k: v for k, v in record(1, "A").items() if k != "digest"}),
         "line 2 is not a release record (missing or not text: digest)"),
        (json.dumps(record(1, "A", result="maybe")), "result 'maybe' is not one of ok, failed"),
        (json.dumps(record(1, "A", kind="upgrade")), "kind 'upgrade' is not one of deploy, rollback, restore"),
    ],
)
def test_a_line_that_is_no_record_stops_with_one_error_naming_the_file(line, problem):
    text = log("A ok") + line + "\n"
    for read in (releases.library_releases, releases.library_history):
        with pytest.raises(AnsibleFilterError) as raised:
            read(text, SOURCE)
        assert raised.value.message.startswith(f"{SOURCE} line 2 ")
        assert problem in raised.value.message


def test_a_rollback_takes_the_digest_its_release_ran_with():
    other = "sha256:" + "cd" * 32
    text = log("A ok", "B ok").replace(DIGEST, other, 1) + log("B failed").replace(DIGEST, "sha256:" + "ee" * 32)
    # A ran as `other`; B's newest successful line names DIGEST (the failed one is not taken).
    assert releases.library_recorded_digest(text, SOURCE, "A") == other
    assert releases.library_recorded_digest(text, SOURCE, "B") == DIGEST
    assert releases.library_recorded_digest(text, SOURCE, "C") == ""
