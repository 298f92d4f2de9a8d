"""What one database host can do with its backup key, proven from lab-1 with lab-1's own key: no
shell; only its own folder (lab-2's cannot be listed); nothing it sent can be deleted or
overwritten once the backup host sealed it. The repository holds ciphertext only. The restore
drill passes on the real repository, its metric says so and make status shows it; on a copy with
one byte changed it says failed."""

import re
import shlex

import pytest
from conftest import ssh
from prometheus_samples import value
from test_backup_restore import make

BACKUP = "lab-backup"
ADDRESS = "10.77.0.21"
ACCOUNT = "bk-lab-1"
FOLDER = f"/srv/library-backup/{ACCOUNT}"
KEY = "-i /opt/library/backup/ssh_key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes " \
      "-o UserKnownHostsFile=/opt/library/backup/known_hosts"


def sftp(command: str):
    """One SFTP command from lab-1, as lab-1's account with lab-1's key (as its database does)."""
    return ssh("lab-1", f"printf '%s\\n' {shlex.quote(command)} | sudo sftp -b - {KEY} {ACCOUNT}@{ADDRESS}")


def on_backup_host(command: str) -> str:
    r = ssh(BACKUP, f"sudo sh -c {shlex.quote(command)}")
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def sealed_files():
    """An archived WAL segment and a file of a finished backup, by their paths in the account's
    folder, once the keeper sealed them (it runs every minute; here at once), with their sums."""
    on_backup_host("systemctl start library-backup-seal.service")
    wal = on_backup_host(f"find {FOLDER}/repo/archive -type f -name '0000000*-*' | sort | head -n 1").strip()
    backup = on_backup_host(f"find {FOLDER}/repo/backup -path '*F/*' -type f -name 'backup.manifest' | sort | head -n 1").strip()
    assert wal and backup, (wal, backup)
    for path in (wal, backup):
        assert "i" in on_backup_host(f"lsattr {path}").split()[0], f"{path} is not sealed"
    files = {path[len(FOLDER):]: on_backup_host(f"sha256sum {path}").split()[0] for path in (wal, backup)}
    yield files
    for path, digest in files.items():
        assert on_backup_host(f"sha256sum {FOLDER}{path}").split()[0] == digest, f"{path} changed"


def test_the_key_gives_no_shell():
    r = ssh("lab-1", f"sudo ssh {KEY} {ACCOUNT}@{ADDRESS} id")
    assert r.returncode != 0 and "uid=" not in r.stdout
    assert "sftp connections only" in r.stdout + r.stderr


def test_the_account_sees_its_own_folder_and_nothing_else():
    listed = sftp("ls -a /")
    assert listed.returncode == 0, listed.stderr
    assert {w for w in listed.stdout.split() if w.startswith("/")} - {"/", "/.", "/.."} == {"/dump", "/repo"}
    for elsewhere in ("/srv/library-backup/bk-lab-2", "/../bk-lab-2/repo", "/etc/ssh/library-backup-keys"):
        r = sftp(f"ls {elsewhere}")
        assert r.returncode != 0 and "lab-2" not in r.stdout.replace(elsewhere, ""), r.stdout + r.stderr


@pytest.mark.parametrize("kind", ["WAL segment", "backup file"])
def test_what_was_sent_can_be_neither_deleted_nor_overwritten(sealed_files, kind):
    path = list(sealed_files)[0 if kind == "WAL segment" else 1]
    for command in (f"rm {path}", f"put /etc/hostname {path}", f"chmod 600 {path}"):
        r = sftp(command)
        assert r.returncode != 0, f"{command}: {r.stdout}"
        assert re.search(r"Permission denied|Failure|Couldn't", r.stdout + r.stderr), r.stdout + r.stderr
    assert sftp(f"put /etc/hostname {path}.forged").returncode == 0
    try:
        r = sftp(f"rename {path}.forged {path}")
        assert r.returncode != 0, r.stdout
    finally:
        on_backup_host(f"rm -f {FOLDER}{path}.forged")


def test_the_repository_holds_ciphertext_only(sealed_files):
    infos = on_backup_host(f"find {FOLDER}/repo -name '*.info' -type f").split()
    assert len(infos) >= 2
    for path in [*infos, *(FOLDER + p for p in sealed_files)]:
        head = on_backup_host(f"head -c 8 {path}")
        assert head == "Salted__", f"{path} starts {head!r}: not pgBackRest's cipher"
    # pgBackRest's index in clear names its sections; encrypted, nothing of it shows.
    assert on_backup_host(f"grep -c 'backup:current' {FOLDER}/repo/backup/lab-1/backup.info || true").strip() == "0"


def test_a_drill_restores_the_newest_backup_and_its_metric_says_ok():
    on_backup_host("systemctl start library-restore-drill.service")
    prom = on_backup_host("cat /var/lib/library-backup/metrics/drill.prom")
    for stanza in ("lab-1", "lab-2"):
        assert value(prom, "library_restore_drill_ok", stanza=stanza) == 1
        assert value(prom, "library_restore_drill_backup_age_seconds", stanza=stanza) >= 0
    status = make("status")
    assert status.returncode == 0, status.stderr[-2000:]
    rows = [line for line in status.stdout.splitlines()
            if line.strip().startswith(("lab-1 ", "lab-2 ")) and "PLAY RECAP" not in line and " : ok=" not in line]
    assert len(rows) == 2 and all(" ok " in row and "ago (backup" in row for row in rows), rows


def test_a_drill_of_a_damaged_copy_says_it_failed():
    copy = "/var/tmp/drill-copy"
    on_backup_host(f"rm -rf {copy} && mkdir -p {copy} && cp -r {FOLDER}/repo {copy}/repo && chown -R {ACCOUNT} {copy}")
    bundles = on_backup_host(f"find {copy}/repo/backup -path '*/bundle/*' -type f -printf '%s %p\\n'").splitlines()
    assert bundles
    # One byte in the middle of every bundle of every backup, changed: whichever the drill takes.
    for size, bundle in (line.split() for line in bundles):
        on_backup_host(f"printf '\\377' | dd of={bundle} bs=1 seek={int(size) // 2} conv=notrunc status=none")
    r = ssh(BACKUP, f"sudo library-restore-drill --only {ACCOUNT} --repository {copy}/repo --results {copy}/results")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "lab-1: FAILED" in r.stderr
    prom = on_backup_host(f"cat {copy}/results/drill.prom")
    assert value(prom, "library_restore_drill_ok", stanza="lab-1") == 0
    on_backup_host(f"rm -rf {copy}")
    # The real results are untouched.
    assert value(on_backup_host("cat /var/lib/library-backup/metrics/drill.prom"), "library_restore_drill_ok",
                 stanza="lab-1") == 1
