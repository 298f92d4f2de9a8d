"""The backup repository host's programs (roles/backup_repository/files/usr/local/sbin), their
decisions tested as functions: what the keeper seals and which dumps it lets go, what the drill
reads from a release and says in its metrics, the accounts' names, and make status's cell. The
sealing itself is tried on a real file (this machine's root on a file system that keeps the
immutable attribute). Their run against real repositories is tests/e2e/test_backup_security.py."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "ansible" / "roles" / "backup_repository" / "files" / "usr" / "local" / "sbin"
sys.path.insert(0, str(ROOT / "ansible" / "filter_plugins"))
from backups import library_backup_account
from status import library_drill_summary


def load(name: str):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(PROGRAMS / name))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


keeper = load("library-backup-keeper")
drill = load("library-restore-drill")
DONE = {"20261207-101500F", "20261207-101500F_20261208-013000D"}


@pytest.mark.parametrize(("relative", "sealed"), [
    ("dump/library-20261207T023000Z.dump.age", True),
    ("dump/library-20261207T023000Z.dump.age.part", False),  # still on its way
    ("repo/archive/lab-1/17-1/0000000100000000/000000010000000000000003-abc.zst", True),
    ("repo/archive/lab-1/17-1/00000002.history", True),
    ("repo/archive/lab-1/archive.info", False),  # pgBackRest rewrites it
    ("repo/archive/lab-1/archive.info.copy", False),
    ("repo/backup/lab-1/backup.info", False),
    ("repo/backup/lab-1/20261207-101500F/bundle/1", True),
    ("repo/backup/lab-1/20261207-101500F/backup.manifest", True),
    ("repo/backup/lab-1/20261209-013000F/backup.manifest.copy", False),  # a backup in progress
    ("repo/backup/lab-1/20261209-013000F/bundle/1", False),
    ("repo/backup/lab-1/20261207-101500F/bundle/1.pgbackrest.tmp", False),
    ("repo/backup/lab-1/backup.history/2026/20261207-101500F.manifest.gz", False),
    ("elsewhere/file", False),
])
def test_the_keeper_seals_what_is_finished_and_never_rewritten(relative, sealed):
    assert keeper.is_sealable(Path(relative), DONE) is sealed


def test_the_keeper_lets_go_of_the_oldest_dumps_beyond_the_retention():
    names = ["library-20261201T023000Z.dump.age", "library-20261203T023000Z.dump.age", "library-20261202T023000Z.dump.age",
             "library-20261204T023000Z.dump.age.part", "notes.txt"]
    assert keeper.expired_dumps(names, 2) == ["library-20261201T023000Z.dump.age"]
    assert keeper.expired_dumps(names, 5) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="setting the immutable attribute takes root (CAP_LINUX_IMMUTABLE)")
def test_a_sealed_file_can_be_neither_removed_nor_overwritten_until_unsealed(tmp_path):
    path = tmp_path / "000000010000000000000003"
    path.write_bytes(b"wal")
    assert keeper.set_immutable(path, True) is True
    assert keeper.set_immutable(path, True) is False  # already sealed: nothing changes
    try:
        with pytest.raises(PermissionError):
            path.unlink()
        with pytest.raises(PermissionError):
            path.write_bytes(b"forged")
        (tmp_path / "forged").write_bytes(b"forged")
        with pytest.raises(PermissionError):
            (tmp_path / "forged").replace(path)
    finally:
        keeper.set_immutable(path, False)
    path.unlink()


def test_the_drill_reads_the_migrations_a_release_recorded():
    recorded = "[X]  contenttypes.0001_initial\n[X]  catalog.0001_initial\n[X]  circulation.0002_catalogue_version\n"
    names = drill.release_migrations(recorded)
    assert names == ["contenttypes.0001_initial", "catalog.0001_initial", "circulation.0002_catalogue_version"]
    assert drill.missing_migrations(names, ["catalog.0001_initial", "contenttypes.0001_initial"]) == [
        "circulation.0002_catalogue_version"]
    assert drill.missing_migrations(names, names + ["catalog.0002_newer"]) == []


def test_the_drills_metrics_say_each_databases_result():
    text = drill.metrics({
        "lab-1": {"ok": True, "time": 1700000100, "last_success": 1700000100, "backup_age": 3600, "duration": 21.5},
        "lab-2": {"ok": False, "time": 1700000200, "last_success": None, "backup_age": None, "duration": 3.0},
    })
    assert 'library_restore_drill_ok{stanza="lab-1"} 1' in text
    assert 'library_restore_drill_ok{stanza="lab-2"} 0' in text
    assert 'library_restore_drill_backup_age_seconds{stanza="lab-1"} 3600' in text
    assert 'library_restore_drill_last_success_timestamp_seconds{stanza="lab-2"}' not in text  # never passed
    assert "# TYPE library_restore_drill_ok gauge" in text


@pytest.mark.parametrize(("stanza", "account"), [
    ("lab-1", "bk-lab-1"),
    ("library-staging-1", "bk-library-staging-1"),
])
def test_each_database_host_has_an_account_named_after_it(stanza, account):
    assert library_backup_account(stanza) == account


def test_names_that_are_no_login_become_distinct_logins():
    dotted, upper = library_backup_account("db1.example.com"), library_backup_account("DB1-example-com")
    for name in (dotted, upper, library_backup_account("x" * 60)):
        assert len(name) <= 32 and name.startswith("bk-") and name.replace("-", "").isalnum() and name == name.lower()
    assert dotted != upper != library_backup_account("db1-example-com")


def test_status_says_each_drill_in_one_cell():
    now = 1700010000
    assert library_drill_summary(None, now) == "none yet"
    assert library_drill_summary({"ok": True, "time": now - 7200, "backup_age": 18000}, now) == "ok 2h ago (backup 5h old)"
    assert library_drill_summary({"ok": False, "time": now - 60, "error": "restore of X failed: checksum"}, now) == \
        "FAILED 1m ago: restore of X failed: checksum"
