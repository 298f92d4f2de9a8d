"""The role library's smaller programs as filters (ansible/filter_plugins/): the compose project
a host runs, its images, the waits derived from the two timeouts, what is read from the host's
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
