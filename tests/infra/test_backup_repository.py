"""The backup side of the lab: the repository host (group backup) and each library host's
continuous backups. Every database host has an account of its own there: SFTP alone, locked in
a folder of its own that root owns, its key kept where only root writes, from its own address;
its repository is encrypted; the keeper seals what arrives and the drills run by timer."""

import subprocess

import pytest
import testinfra
import yaml
from conftest import HOSTS, LAB, SSH_CONFIG

BACKUP_HOST, BACKUP_ADDRESS = next(iter(yaml.safe_load((LAB / "inventory.yml").read_text())["backup"]["hosts"].items()))
BACKUP_HOST_ADDRESS = BACKUP_ADDRESS["ansible_host"]
ROOT = "/srv/library-backup"


@pytest.fixture(scope="module")
def repository():
    return testinfra.get_host(f"ssh://{BACKUP_HOST}", ssh_config=str(SSH_CONFIG))


@pytest.mark.parametrize("stanza", sorted(HOSTS))
def test_each_database_has_an_account_of_its_own_locked_in_a_folder_root_owns(repository, stanza):
    account = f"bk-{stanza}"
    user = repository.user(account)
    assert user.exists and user.shell == "/usr/sbin/nologin" and "library-backup" in user.groups
    with repository.sudo():
        chroot = repository.file(f"{ROOT}/{account}")
        assert (chroot.user, chroot.group, chroot.mode) == ("root", "root", 0o755)
        for part in ("repo", "dump"):
            folder = repository.file(f"{ROOT}/{account}/{part}")
            assert (folder.is_directory, folder.user, folder.mode) == (True, account, 0o750), part
        assert repository.file(f"{ROOT}/{account}/repo/archive/{stanza}").is_directory
        keys = repository.file(f"/etc/ssh/library-backup-keys/{account}")
        assert (keys.user, keys.mode) == ("root", 0o644)
        assert keys.content_string.startswith(f'restrict,from="{HOSTS[stanza]}" ssh-ed25519 ')


def test_sshd_gives_the_accounts_sftp_alone_in_their_folder(repository):
    with repository.sudo():
        effective = repository.check_output("sshd -T -C user=bk-lab-1,host=lab-1,addr=10.77.0.11")
    for expected in ("chrootdirectory /srv/library-backup/%u", "forcecommand internal-sftp -u 0027",
                     "authorizedkeysfile /etc/ssh/library-backup-keys/%u", "allowtcpforwarding no", "permittty no"):
        assert expected in effective, expected


def test_the_old_shared_account_is_gone(repository):
    assert not repository.user("pgbackrest").exists


def test_a_database_hosts_key_stays_on_it_and_is_its_postgres_users_alone(host):
    with host.sudo():
        key = host.file("/opt/library/backup/ssh_key")
        assert (key.uid, key.mode) == (999, 0o400)
        conf = host.file("/opt/library/backup/pgbackrest.conf")
        assert (conf.uid, conf.mode) == (999, 0o400)
        assert "repo1-cipher-type=aes-256-cbc" in conf.content_string and "expire-auto=n" in conf.content_string


def test_this_machine_cannot_log_in_as_an_account():
    """This machine is no database host: from= in the account's key refuses it."""
    r = subprocess.run(["ssh", "-F", str(SSH_CONFIG), "-o", "BatchMode=yes", "-l", "bk-lab-1", BACKUP_HOST, "id"],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode != 0 and "uid=" not in r.stdout, r.stdout + r.stderr


def test_the_repository_host_answers_nothing_but_ssh():
    """Its firewall opens no web port: port 80, open on the library hosts, does not answer."""
    r = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", f"http://{BACKUP_HOST_ADDRESS}/"],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode != 0


def test_the_keeper_and_the_drill_run_by_timer(repository):
    for timer in ("library-backup-seal.timer", "library-backup-expire.timer", "library-restore-drill.timer"):
        assert repository.service(timer).is_enabled, timer
        assert repository.service(timer).is_running, timer


def test_the_backup_timers_are_on(host):
    for timer in ("library-backup-full.timer", "library-backup-diff.timer"):
        assert host.service(timer).is_enabled, timer
        assert host.service(timer).is_running, timer


def test_postgresql_archives_every_wal_segment_without_failure(host):
    with host.sudo():
        out = host.check_output("docker exec --user postgres library-db-1 psql -X -tA -d library "
                                "-c \"SELECT archived_count > 0, failed_count FROM pg_stat_archiver\"")
    assert out.strip() == "t|0", out
