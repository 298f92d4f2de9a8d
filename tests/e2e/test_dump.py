"""Logical dumps (pg_dump -Fc) into the backup repository, end to end in the lab.

The lab dumps each host's bundled database (library_dump: true), as production dumps its
external one: `make backup` sends a dump per host to its own account's folder on lab-backup
over SFTP, encrypted to the lab operator's age key; the backup host's expiry keeps the newest
two (backup_repository_dump_retention); the host serves the dumps' metrics on loopback; and the
newest dump, decrypted with the operator's key (and with no other), restores into an empty
database with every book of the live one."""

import re
import subprocess
import time

from conftest import HOSTS, STATE, ssh
from prometheus_samples import value
from test_backup_restore import make

REPOSITORY = "/srv/library-backup/bk-{name}/dump"
DUMP_NAME = r"library-\d{8}T\d{6}Z\.dump\.age"
DB = "sudo docker exec --user postgres library-db-1"


def dumps(name):
    """The dumps lab-backup keeps for host NAME, oldest first."""
    r = ssh("lab-backup", f"sudo ls -1 {REPOSITORY.format(name=name)}")
    assert r.returncode == 0, r.stderr
    return sorted(r.stdout.split())


def test_backup_now_sends_a_dump_of_each_hosts_database():
    r = make("backup")
    assert r.returncode == 0, r.stderr[-2000:]
    said_all = " ".join(r.stdout.split())  # Ansible folds long messages
    for name in HOSTS:
        said = re.search(rf"{name}: library-dump: /dump/({DUMP_NAME}), (\d+) bytes; (\d+) dumps in the repository",
                         said_all)
        assert said, f"no dump reported for {name}"
        assert int(said.group(2)) > 10_000, said.group(0)  # the schema and the lab's rows, not an empty file
        assert said.group(1) == dumps(name)[-1]


def test_the_backup_host_keeps_the_newest_two_and_no_partial_upload():
    started = time.time()
    for _ in range(2):
        r = ssh("lab-1", "sudo systemctl start library-dump.service")
        assert r.returncode == 0, r.stderr
        time.sleep(1)  # names are to the second
    assert len(dumps("lab-1")) >= 3  # the database host removes nothing
    r = ssh("lab-backup", "sudo systemctl start library-backup-expire.service")
    assert r.returncode == 0, r.stderr
    kept = dumps("lab-1")
    assert len(kept) == 2, kept
    assert all(re.fullmatch(DUMP_NAME, name) for name in kept), kept

    metrics = ssh("lab-1", "curl -sf http://127.0.0.1:9180/dump/metrics")
    assert metrics.returncode == 0, metrics.stderr
    assert value(metrics.stdout, "library_dump_count") >= 3  # as the host counted them, before the expiry
    assert value(metrics.stdout, "library_dump_last_success_timestamp_seconds") >= int(started)
    assert value(metrics.stdout, "library_dump_last_size_bytes") > 10_000


def test_the_newest_dump_opens_with_the_operators_key_alone_and_restores_every_book(tmp_path):
    newest = f"{REPOSITORY.format(name='lab-1')}/{dumps('lab-1')[-1]}"
    config = ["-F", str(STATE / "ssh_config")]
    sealed = subprocess.run(["ssh", *config, "lab-backup", f"sudo cat {newest}"], capture_output=True,
                            timeout=60, check=True).stdout
    assert sealed.startswith(b"age-encryption.org/v1\n") and b"PGDMP" not in sealed
    other = tmp_path / "other.key"
    subprocess.run(["age-keygen", "-o", str(other)], capture_output=True, check=True)
    wrong = subprocess.run(["age", "-d", "-i", str(other)], input=sealed, capture_output=True, check=False)
    assert wrong.returncode != 0 and wrong.stdout == b""
    dump = subprocess.run(["age", "-d", "-i", str(STATE / "age.key")], input=sealed, capture_output=True,
                          check=True).stdout
    assert dump[:5] == b"PGDMP"  # pg_dump's custom format

    live = ssh("lab-1", f'{DB} psql -X -tA -d library -c "SELECT count(*) FROM catalog_book"')
    assert live.returncode == 0, live.stderr
    assert ssh("lab-1", f"{DB} dropdb --if-exists dumpcheck && {DB} createdb dumpcheck").returncode == 0
    try:
        restored = subprocess.run(
            ["ssh", *config, "lab-1",
             "sudo docker exec -i --user postgres library-db-1 pg_restore --no-owner --exit-on-error -d dumpcheck"],
            input=dump, capture_output=True, timeout=120, check=False)
        assert restored.returncode == 0, restored.stderr.decode()[-2000:]
        count = ssh("lab-1", f'{DB} psql -X -tA -d dumpcheck -c "SELECT count(*) FROM catalog_book"')
        assert count.returncode == 0, count.stderr
        # No book is written between the dump and now by this suite.
        assert int(count.stdout) == int(live.stdout) > 0
    finally:
        ssh("lab-1", f"{DB} dropdb --if-exists dumpcheck")


def test_each_host_schedules_its_dumps():
    for name in HOSTS:
        r = ssh(name, "systemctl is-enabled library-dump.timer && systemctl is-active library-dump.timer")
        assert r.stdout.split() == ["enabled", "active"], r.stdout + r.stderr
