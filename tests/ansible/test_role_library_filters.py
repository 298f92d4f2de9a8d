"""The role library's smaller programs as filters (ansible/filter_plugins/): the compose project
a host runs, its images, the database's URL and node, the proxy's address and tls directive, the waits derived from the two timeouts, what is read from the host's
containers and the upstream file, and the names library_app_env cannot set. The expected values
are what the role's Jinja gave for the same inputs."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ansible" / "filter_plugins"))
from app_env import library_app_env_reserved
from containers import (
    library_container_named,
    library_running_names,
    library_upstream_named,
    library_web_containers,
)
from database import library_db_exec, library_db_node, library_external_database_url
from proxy import library_check_base_url, library_tls_directive
from timeouts import library_polls, library_swarm_update_seconds

from compose import library_compose_files, library_compose_profiles, library_images


@pytest.mark.parametrize(("engine", "https", "backup", "dump_here", "files"), [
    ("compose", False, False, False, ["compose.yaml"]),
    ("swarm", True, False, True, ["compose.yaml", "compose.https.yaml", "compose.dump.yaml", "compose.swarm.yaml"]),
    ("compose", "yes", "True", 1, ["compose.yaml", "compose.https.yaml", "compose.backup.yaml", "compose.dump.yaml"]),
])
def test_compose_files_are_the_base_and_the_overlays_of_the_hosts_features(engine, https, backup, dump_here, files):
    assert library_compose_files(engine, https=https, backup=backup, dump_here=dump_here) == files


@pytest.mark.parametrize(("bundled_db", "profiles"), [(True, ["bundled-db"]), ("True", ["bundled-db"]),
                                                      (False, []), ("no", [])])
def test_the_bundled_database_has_its_profile(bundled_db, profiles):
    assert library_compose_profiles(bundled_db) == profiles


@pytest.mark.parametrize(("bundled_db", "dump_here", "database"), [
    (True, False, ["p"]), (False, False, []), (False, True, ["p"]), ("False", "true", ["p"]),
])
def test_the_database_image_is_pulled_where_a_database_runs_or_is_dumped(bundled_db, dump_here, database):
    images = library_images(["r@sha256:1"], tag="r:t", caddy="c", valkey="v", postgres="p",
                            bundled_db=bundled_db, dump_here=dump_here)
    assert images == ["r@sha256:1", "r:t", "c", "v", *database]


@pytest.mark.parametrize(("seconds", "every", "polls"), [(120, 0.5, 240), ("7", 0.5, 14), (5.5, 0.5, 11),
                                                         (161, 2, 80), ("soon", 0.5, 0)])
def test_polls_fit_in_the_wait(seconds, every, polls):
    assert library_polls(seconds, every) == polls


@pytest.mark.parametrize(("ready", "replicas", "start", "monitor", "total"), [
    (120, 2, 40, 60, 320), ("45", "1", 15, 14, 74), (61, 3, "20", "10", 151),
])
def test_swarms_update_waits_one_start_period_and_monitor_window_per_replica(ready, replicas, start, monitor, total):
    assert library_swarm_update_seconds(ready, replicas=replicas, start_period=start, monitor=monitor) == total


def container(name, state, service=None):
    labels = {"com.docker.compose.service": service} if service else None
    return {"Names": ["/" + name], "State": state, "Labels": labels}


CONTAINERS = [container("library-proxy-1", "running", "proxy"), container("library-web-1", "running", "web"),
              container("library-web-2", "exited", "web"), container("library-db-1", "exited"),
              {"Names": ["/other"], "State": "running"}]


def test_a_container_is_named_whatever_its_state_unless_it_must_run():
    assert library_container_named(CONTAINERS, "library-proxy-1") is True
    assert library_container_named(CONTAINERS, "library-db-1") is True
    assert library_container_named(CONTAINERS, "library-db-1", running=True) is False
    assert library_container_named(CONTAINERS, "library-cache-1") is False
    assert library_container_named([], "library-proxy-1") is False


def test_web_containers_are_composes_web_service_and_their_running_names_lose_the_slash():
    web = library_web_containers(CONTAINERS)
    assert [c["Names"] for c in web] == [["/library-web-1"], ["/library-web-2"]]
    assert library_running_names(web) == ["library-web-1"]
    assert library_web_containers([]) == []


def slurped(text):
    return {"content": base64.b64encode(text.encode()).decode()}


@pytest.mark.parametrize(("upstream", "named"), [
    (None, ""), ({}, ""), ({"skipped": True}, ""), (slurped(""), ""),
    (slurped("to library-web-2:8000\n"), "library-web-2"),
    (slurped("# first the one\nto web-1:8000 web-2:8000\nto b:8000"), "web-1"),
    (slurped("to :8000"), ""),
])
def test_the_upstream_file_names_the_first_web_container_it_sends_to(upstream, named):
    assert library_upstream_named(upstream) == named


def test_app_env_cannot_set_the_stacks_variables_their_file_forms_nor_the_build_information():
    assert library_app_env_reserved(["DATABASE_URL", "X"]) == [
        "DATABASE_URL", "X", "DATABASE_URL_FILE", "X_FILE", "LIBRARY_VERSION", "LIBRARY_REVISION", "LIBRARY_BUILT"]
    assert library_app_env_reserved([]) == ["LIBRARY_VERSION", "LIBRARY_REVISION", "LIBRARY_BUILT"]


@pytest.mark.parametrize(("url", "ca_file", "external"), [
    ("postgres://x@h/db", "", "postgres://x@h/db"),
    ("postgres://x@h/db", "/ca.pem", "postgres://x@h/db?sslrootcert=/etc/library/database-ca.pem"),
    ("postgres://x@h/db?sslmode=verify-full", "/ca.pem",
     "postgres://x@h/db?sslmode=verify-full&sslrootcert=/etc/library/database-ca.pem"),
])
def test_the_external_database_url_points_at_the_mounted_ca_when_one_is_given(url, ca_file, external):
    assert library_external_database_url(url, ca_file, "/etc/library/database-ca.pem") == external


@pytest.mark.parametrize(("engine", "labels", "db_node"), [
    ("compose", None, True), ("swarm", None, False), ("swarm", {}, False), ("swarm", {"library.db": "true"}, True),
    ("swarm", {"library.db": "false"}, False),
    ("swarm", {"library.db": True}, False),  # Docker's labels are strings: only "true" counts
])
def test_the_database_runs_on_every_compose_host_and_on_swarms_labelled_node(engine, labels, db_node):
    assert library_db_node(engine, labels) is db_node


def test_db_exec_names_composes_container_or_the_swarm_helper():
    assert library_db_exec("compose", "library", "/x") == ["docker", "exec", "--user", "postgres", "library-db-1"]
    assert library_db_exec("swarm", "library", "/usr/local/sbin/library-db-exec") == ["/usr/local/sbin/library-db-exec"]


@pytest.mark.parametrize(("https", "url"), [(True, "https://127.0.0.1:443"), ("yes", "https://127.0.0.1:443"),
                                            (False, "http://127.0.0.1:8080")])
def test_the_health_gate_asks_the_hosts_own_proxy(https, url):
    assert library_check_base_url(https, 443, "8080") == url


@pytest.mark.parametrize(("tls_shared", "https", "email", "directive"), [
    (True, True, "a@b", "tls /etc/caddy/tls/certificate.pem /etc/caddy/tls/key.pem"),
    (False, True, "a@b", "tls a@b"), ("False", "True", "a@b", "tls a@b"),
    (False, True, "", ""), (False, False, "a@b", ""),
])
def test_the_tls_directive_is_the_shared_certificate_or_acmes_address_or_none(tls_shared, https, email, directive):
    assert library_tls_directive(tls_shared, https, email) == directive
