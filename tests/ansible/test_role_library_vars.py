"""roles/library/vars/main.yml's calls of the filters, rendered by Ansible's Templar with the
repository's filter plugins: each variable is wired to its filter with the right arguments
(the filters' own behaviour is tested beside them)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import filter_loader, init_plugin_loader
from ansible.template import Templar, trust_as_template

ROOT = Path(__file__).resolve().parents[2]
VARS = ROOT / "ansible" / "roles" / "library" / "vars" / "main.yml"


def trusted(value):
    # Templates from a file the test reads itself: trusted as the role's own are.
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


@pytest.fixture(scope="module")
def render():
    init_plugin_loader()
    filter_loader.add_directory(str(ROOT / "ansible" / "filter_plugins"))
    role_vars = trusted(yaml.safe_load(VARS.read_text()))

    def render(name: str, **variables):
        known = {**role_vars, **variables}
        return Templar(loader=DataLoader(), variables=known).template(known[name])
    return render


def test_the_files_wanted_read_the_compose_project_and_the_templates(render, tmp_path):
    (tmp_path / "src" / "db-init").mkdir(parents=True)
    for name in ["compose.yaml", "compose.https.yaml", "compose.backup.yaml", "compose.dump.yaml", "compose.swarm.yaml",
                 "proxy/Caddyfile", "proxy/maintenance-page.caddy", "db-init/10-a.sql"]:
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(name + "\n")
    for name in ["opt/library/.env.j2", "opt/library/app.env.j2", "dump.j2"]:
        (tmp_path / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "templates" / name).write_text(name + " for {{ library_dir }}\n")
    files = render("library_files_wanted_now", ansible_search_path=[str(tmp_path)], library_dir="/opt/library",
                   library_compose_src=str(tmp_path / "src"), library_tls_shared=False, library_tls_certificate="",
                   library_tls_key="", library_bundled_db=True, library_database_ca_file="", library_backup=False,
                   library_dump_here=True, library_dump_host_files={"/usr/local/sbin/library-dump": "dump.j2"},
                   library_backup_files={"known_hosts": "bk A\n"})
    assert sorted(files) == sorted(
        [f"/opt/library/{name}" for name in ["compose.yaml", "compose.https.yaml", "compose.backup.yaml", "compose.dump.yaml",
                                             "compose.swarm.yaml", "proxy/Caddyfile", "proxy/maintenance-page.caddy",
                                             "db-init/10-a.sql", "backup/known_hosts", ".env", "app.env"]]
        + ["/usr/local/sbin/library-dump"])


def test_the_backups_files_and_summary(render):
    keys = {"library_backup_repository_address": "bk", "library_backup_repository_port": 2222,
            "library_backup_repository_host_keys": ["ssh-ed25519 A"], "library_dump_age_recipients": ["age1"]}
    assert render("library_backup_files", library_backup=False, library_dump_here=True, **keys) == {
        "age-recipients": "age1\n", "known_hosts": "[bk]:2222 ssh-ed25519 A\n"}
    assert render("library_backup_summary", inventory_hostname="h1", library_backup_info={}) == "h1: 0 backups; none yet"
    assert render("library_backup_written", library_dir="/opt/library",
                  library_files_differ=["/opt/library/backup/known_hosts", "/etc/x"]) == ["known_hosts"]


def test_the_release_record(render):
    record = render("library_release_record", library_revision="abc", library_release_result="ok",
                    library_deployer="me@host", library_image_digest="", library_rollback=False,
                    library_restore_at="", library_restore_backup="")
    assert {key: value for key, value in record.items() if key != "time"} == {
        "revision": "abc", "result": "ok", "deployer": "me@host", "digest": "", "kind": "deploy"}


def test_the_compose_project_images_and_waits(render):
    features = {"library_domain": "", "library_database_url": "", "library_backup_repository_host": "", "library_dump": False,
                "library_engine": "compose", "library_ready_timeout": 120, "library_health_seconds": 30, "library_web_replicas": 2}
    assert render("library_compose_files", **features) == ["compose.yaml"]
    assert render("library_compose_profiles", **features) == ["bundled-db"]
    assert render("library_ready_polls", **features) == 240
    assert render("library_swarm_update_polls", **features) == 160


def test_what_is_read_from_the_containers_and_the_upstream_file(render):
    containers = [{"Names": ["/library-web-1"], "State": "running", "Labels": {"com.docker.compose.service": "web"}}]
    host = {"library_host": {"containers": containers}, "library_project_name": "library"}
    assert render("library_first_deploy", **host) is True
    assert render("library_db_running", **host) is False
    assert render("library_web_running", **host) == ["library-web-1"]
    upstream = {"content": base64.b64encode(b"to library-web-1:8000\n").decode()}
    assert render("library_upstream_named", library_upstream=upstream) == "library-web-1"
    assert render("library_upstream_named") == ""


def test_the_database_and_proxy_settings(render):
    assert render("library_external_database_url", library_database_url="postgres://h/db",
                  library_database_ca_file="/ca.pem") == "postgres://h/db?sslrootcert=/etc/library/database-ca.pem"
    assert render("library_db_node", library_engine="swarm", swarm_node_labels={"library.db": "true"}) is True
    assert render("library_db_node", library_engine="swarm") is False
    assert render("library_db_exec", library_engine="compose", library_project_name="library")[-1] == "library-db-1"
    site = {"library_domain": "example.org", "library_https_port": 443, "library_http_port": 80,
            "library_tls_certificate": "", "library_acme_email": "ops@example.org"}
    assert render("library_check_base_url", **site) == "https://127.0.0.1:443"
    assert render("library_tls_directive", **site) == "tls ops@example.org"
