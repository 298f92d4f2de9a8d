"""The role library's programs about backups and the release record as filters
(ansible/filter_plugins/backups.py, releases.py, status.py). The expected values are what the
role's Jinja gave for the same inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ansible" / "filter_plugins"))
from backups import (
    library_backup_age,
    library_backup_files,
    library_backup_summary,
    library_files_in,
    library_key_lines,
    library_known_host,
)
from releases import library_release_record, library_restore_from
from status import library_status_rows

KEYS = [" ssh-ed25519 AAA \n", "ecdsa BBB"]


def test_keys_are_one_a_line_trimmed_after_their_prefix():
    assert library_key_lines(KEYS, "bk.example ") == "bk.example ssh-ed25519 AAA\nbk.example ecdsa BBB\n"
    assert library_key_lines(["age1x ", "age1y"]) == "age1x\nage1y\n"
    # The preflight refuses an empty list where the file is written.
    assert library_key_lines([]) == ""


@pytest.mark.parametrize(("port", "named"), [(22, "bk.example"), ("22", "bk.example"),
                                             (2222, "[bk.example]:2222"), ("2222", "[bk.example]:2222")])
def test_the_repository_host_has_its_port_in_known_hosts_unless_22(port, named):
    assert library_known_host("bk.example", port) == named


def test_backup_files_hold_pgbackrest_settings_only_with_continuous_backups():
    rendered = []

    def lookup(plugin, term):
        rendered.append((plugin, term))
        return "[global]\n"

    files = library_backup_files("kh\n", lookup, backup=False, dump_here="True", recipients="age1\n")
    assert files == {"age-recipients": "age1\n", "known_hosts": "kh\n"}
    assert rendered == []
    files = library_backup_files("kh\n", lookup, backup="true", dump_here=False, recipients="age1\n")
    assert files == {"pgbackrest.conf": "[global]\n", "known_hosts": "kh\n"}
    assert rendered == [("ansible.builtin.template", "opt/library/backup/pgbackrest.conf.j2")]


def test_the_backup_files_written_are_named_as_in_their_folder():
    differ = ["/opt/library/backup/known_hosts", "/opt/library/backupx/a", "/opt/library/backup/pgbackrest.conf", "/etc/x"]
    assert library_files_in(differ, "/opt/library/backup") == ["known_hosts", "pgbackrest.conf"]
    assert library_files_in([], "/opt/library/backup") == []


NEWEST = {"label": "20261207-101500F", "type": "full", "info": {"repository": {"delta": 3456789}},
          "timestamp": {"start": 100, "stop": 130}}


def test_a_backups_age_counts_from_its_end():
    assert library_backup_age(NEWEST, 1130.9) == 1000
    assert library_backup_age({}, 1130.9) == -1


@pytest.mark.parametrize(("info", "summary"), [
    ({}, "h1: 0 backups; none yet"),
    ({"backup": []}, "h1: 0 backups; none yet"),
    ({"backup": [NEWEST]},
     "h1: 1 backups; newest 20261207-101500F (full, 3.3 MiB stored, 30 s to take, 42 s old); WAL none to none"),
    ({"backup": [NEWEST, dict(NEWEST, label="L2", type="diff")], "archive": [{"min": "A", "max": "B"}]},
     "h1: 2 backups; newest L2 (diff, 3.3 MiB stored, 30 s to take, 42 s old); WAL A to B"),
    ({"backup": [NEWEST], "archive": []},
     "h1: 1 backups; newest 20261207-101500F (full, 3.3 MiB stored, 30 s to take, 42 s old); WAL none to none"),
    ({"backup": [NEWEST], "archive": [{"min": "A"}]},
     "h1: 1 backups; newest 20261207-101500F (full, 3.3 MiB stored, 30 s to take, 42 s old); WAL A to none"),
])
def test_the_backup_summary_is_one_line_on_the_newest_backup_and_the_wal(info, summary):
    assert library_backup_summary(info, "h1", 42) == summary


@pytest.mark.parametrize(("at", "backup", "restored_from"), [
    ("", "", "latest"), ("2026-12-01 10:00:00", "", "2026-12-01T10:00:00Z"),
    ("", "20261207-101500F", "20261207-101500F"), ("2026-12-01 10:00:00", "x", "2026-12-01T10:00:00Z"),
])
def test_a_restore_went_back_to_a_time_a_backup_or_the_latest(at, backup, restored_from):
    assert library_restore_from(at, backup) == restored_from


def record(kind="deploy", restore_point=None, name=""):
    return library_release_record(kind, time="2026-12-01T10:15:00Z", revision="abc", result="ok",
                                  deployer="  me@host \n", digest="sha256:1", restore_point=restore_point,
                                  restore_point_name=name, restored_from="L")


BASE = {"time": "2026-12-01T10:15:00Z", "revision": "abc", "result": "ok", "deployer": "me@host", "digest": "sha256:1"}


def test_a_deploys_record_names_no_restore_point_unless_one_was_marked():
    assert record() == {**BASE, "kind": "deploy"}
    assert record(restore_point={"skipped": True}) == {**BASE, "kind": "deploy"}
    assert record(restore_point={"stdout_lines": ["only"]}) == {**BASE, "kind": "deploy"}
    marked = {"stdout_lines": ["", "2026-12-01 10:14:00", "0/1"]}
    assert record(restore_point=marked, name="before-x") == {
        **BASE, "kind": "deploy", "restore_point": {"name": "before-x", "time": "2026-12-01T10:14:00Z"}}


def test_a_restores_record_says_what_it_went_back_to():
    assert record("restore") == {**BASE, "kind": "restore", "restored_from": "L"}
    assert record("rollback") == {**BASE, "kind": "rollback"}


def test_a_host_without_a_status_row_is_unreachable():
    hostvars = {"a": {"library_status": {"host": "a", "revision": "r1"}}, "b": {}}
    assert library_status_rows(["a", "b"], hostvars) == [
        {"host": "a", "revision": "r1"}, {"host": "b", "revision": "unreachable"}]
    assert library_status_rows([], hostvars) == []
