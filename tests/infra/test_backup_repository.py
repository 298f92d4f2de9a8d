"""The backup side of the lab: the repository host (group backup) and each library host's
continuous backups. The repository host keeps every database's archive and backups, lets the
backup key in for SFTP alone, and only from the library hosts."""

import subprocess

import pytest
import testinfra
import yaml
from conftest import HOSTS, LAB, SSH_CONFIG

STATE = LAB / ".state"
BACKUP_HOST, BACKUP_ADDRESS = next(iter(yaml.safe_load((LAB / "inventory.yml").read_text())["backup"]["hosts"].items()))
BACKUP_HOST_ADDRESS = BACKUP_ADDRESS["ansible_host"]


@pytest.fixture(scope="module")
def repository():
    return testinfra.get_host(f"ssh://{BACKUP_HOST}", ssh_config=str(SSH_CONFIG))


def test_the_repository_is_its_users_alone(repository):
    folder = repository.file("/var/lib/pgbackrest")
    assert (folder.is_directory, folder.user, folder.mode) == (True, "pgbackrest", 0o750)


@pytest.mark.parametrize("stanza", sorted(HOSTS))
def test_every_database_has_its_archive_and_backups_there(repository, stanza):
    with repository.sudo():
        for part in ("archive", "backup"):
            assert repository.file(f"/var/lib/pgbackrest/{part}/{stanza}").is_directory, f"{part}/{stanza}"


def test_the_backup_key_gets_sftp_and_nothing_else_from_this_machine():
    """This machine is not a library host: the key is refused here (from= in authorized_keys)."""
    r = subprocess.run(["ssh", "-F", str(SSH_CONFIG), "-i", str(STATE / "backup_ed25519"), "-o", "IdentitiesOnly=yes",
                        "-o", "BatchMode=yes", "-l", "pgbackrest", BACKUP_HOST, "id"],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode != 0 and "uid=" not in r.stdout, r.stdout + r.stderr


def test_the_authorized_key_is_restricted_to_sftp_from_the_library_hosts(repository):
    with repository.sudo():
        keys = repository.file("/var/lib/pgbackrest/.ssh/authorized_keys").content_string
    assert 'restrict,command="/usr/lib/openssh/sftp-server"' in keys
    assert f'from="{",".join(HOSTS[n] for n in sorted(HOSTS))}"' in keys


def test_the_repository_host_answers_nothing_but_ssh():
    """Its firewall opens no web port: port 80, open on the library hosts, does not answer."""
    r = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", f"http://{BACKUP_HOST_ADDRESS}/"],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode != 0


def test_the_backup_timers_are_on(host):
    for timer in ("library-backup-full.timer", "library-backup-diff.timer"):
        assert host.service(timer).is_enabled, timer
        assert host.service(timer).is_running, timer


def test_postgresql_archives_every_wal_segment_without_failure(host):
    with host.sudo():
        out = host.check_output("docker exec --user postgres library-db-1 psql -X -tA -d library "
                                "-c \"SELECT archived_count > 0, failed_count FROM pg_stat_archiver\"")
    assert out.strip() == "t|0", out
