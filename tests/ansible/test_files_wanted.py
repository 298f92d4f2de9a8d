"""ansible/filter_plugins/files.py: the project files a release writes, {path: sha256}, read
through a stand-in for Jinja's lookup (a folder of files and templates rendered as text), and
which of them differ from the host's (sha256sum's output)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from ansible.plugins.filter.core import get_hash

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ansible" / "filter_plugins"))
from files import (
    compose_names,
    hashed_contents,
    library_checksums,
    library_files_differing,
    library_files_wanted,
    sha256,
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeLookup:
    """Files by path, templates by name (rendered: "<name> rendered"), db-init's glob; notes
    every template rendered, so a test sees which were read."""

    def __init__(self, files: dict[str, str], db_init: list[str]):
        self.files, self.db_init, self.rendered = files, db_init, []

    def __call__(self, plugin: str, term: str, **options):
        if plugin == "ansible.builtin.file":
            assert options == {"rstrip": False}
            return self.files[term]
        if plugin == "ansible.builtin.fileglob":
            assert term == "/src/db-init/*" and options == {"wantlist": True}
            return self.db_init
        assert plugin == "ansible.builtin.template"
        self.rendered.append(term)
        return f"{term} rendered"


SOURCES = ["compose.yaml", "proxy/Caddyfile"]
FILES = {"/src/compose.yaml": "services: {}\n", "/src/proxy/Caddyfile": "site\n\n", "/src/db-init/10-a.sql": "a",
         "/etc/ca.pem": "CA\n"}


def wanted(lookup, **features):
    settings = {"compose_sources": SOURCES, "compose_src": "/src", "tls_shared": False,
                "tls_files": {"certificate.pem": "C\n", "key.pem": "K\n"}, "bundled_db": True, "database_ca_file": "",
                "database_ca_host_path": "/opt/library/database-ca.pem", "backup": False, "dump_here": False,
                "backup_dir": "/opt/library/backup", "backup_files": {"known_hosts": "bk ssh-ed25519 A\n"},
                "dump_host_files": {"/usr/local/sbin/library-dump": "library-dump.j2"},
                "backup_host_files": {"/etc/systemd/system/library-backup-full.timer": "full.timer.j2"},
                    "app_env_path": "/opt/library/app.env"}
    settings.update(features)
    return library_files_wanted("/opt/library", lookup, **settings)


@pytest.fixture
def lookup():
    return FakeLookup(FILES, ["/src/db-init/10-a.sql"])


def test_a_host_without_extras_gets_the_compose_files_db_init_and_both_env_files(lookup):
    assert wanted(lookup) == {
        "/opt/library/compose.yaml": sha("services: {}\n"),
        "/opt/library/proxy/Caddyfile": sha("site\n\n"),  # its trailing lines count
        "/opt/library/db-init/10-a.sql": sha("a"),
        "/opt/library/.env": sha("opt/library/.env.j2 rendered"),
        "/opt/library/app.env": sha("opt/library/app.env.j2 rendered"),
    }
    assert lookup.rendered == ["opt/library/.env.j2", "opt/library/app.env.j2"]  # no template of an unused feature


def test_the_shared_certificate_goes_under_proxy_tls(lookup):
    files = wanted(lookup, tls_shared="True")
    assert files["/opt/library/proxy/tls/certificate.pem"] == sha("C\n")
    assert files["/opt/library/proxy/tls/key.pem"] == sha("K\n")


@pytest.mark.parametrize(("bundled_db", "ca_file", "written"), [
    (False, "/etc/ca.pem", True),
    (True, "/etc/ca.pem", False),  # the bundled database needs no CA
    (False, "", False),
])
def test_the_database_ca_only_for_an_external_database_with_one(lookup, bundled_db, ca_file, written):
    files = wanted(lookup, bundled_db=bundled_db, database_ca_file=ca_file)
    assert ("/opt/library/database-ca.pem" in files) is written
    if written:
        assert files["/opt/library/database-ca.pem"] == sha("CA\n")


def test_dumps_bring_the_backup_files_and_the_dump_host_files(lookup):
    files = wanted(lookup, dump_here=True)
    assert files["/opt/library/backup/known_hosts"] == sha("bk ssh-ed25519 A\n")
    assert files["/usr/local/sbin/library-dump"] == sha("library-dump.j2 rendered")
    assert "/etc/systemd/system/library-backup-full.timer" not in files


def test_continuous_backups_bring_the_backup_files_and_the_backup_host_files(lookup):
    files = wanted(lookup, backup="true")
    assert "/opt/library/backup/known_hosts" in files
    assert files["/etc/systemd/system/library-backup-full.timer"] == sha("full.timer.j2 rendered")
    assert lookup.rendered == ["full.timer.j2", "opt/library/.env.j2", "opt/library/app.env.j2"]


def test_db_init_files_are_named_by_their_name_in_the_folder(lookup):
    lookup.db_init = ["/src/db-init/20-b.sh", "/src/db-init/10-a.sql"]
    assert compose_names(["compose.yaml"], "/src", lookup) == ["compose.yaml", "db-init/20-b.sh", "db-init/10-a.sql"]


@pytest.mark.parametrize("text", ["", "site\n\n", "é\n"])
def test_hashes_are_those_of_ansibles_hash_filter(text):
    assert sha256(text) == get_hash(text, "sha256")


def test_hashed_contents_are_keyed_by_their_path_in_the_folder():
    assert hashed_contents("/d", {"a": "", "b": "x"}) == {"/d/a": sha(""), "/d/b": sha("x")}


A, B = "a" * 64, "b" * 64


def test_sha256sums_output_is_read_as_checksums_by_path():
    output = (f"{A}  /opt/library/compose.yaml\n{B} */opt/library/.env\n"
              "sha256sum: /opt/library/app.env: No such file or directory\n"
              f"{A}  /opt/x y\n")
    assert library_checksums(output) == {"/opt/library/compose.yaml": A, "/opt/library/.env": B, "/opt/x y": A}
    assert library_checksums("") == {}


def test_a_file_differs_when_its_checksum_does_or_it_is_missing():
    wanted = {"/opt/library/compose.yaml": A, "/opt/library/.env": A, "/opt/library/app.env": B}
    found = {"/opt/library/compose.yaml": A, "/opt/library/.env": B}
    assert library_files_differing(wanted, found) == ["/opt/library/.env", "/opt/library/app.env"]
    assert library_files_differing(wanted, {**found, "/opt/library/.env": A, "/opt/library/app.env": B}) == []
