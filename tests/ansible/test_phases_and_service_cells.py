"""A release's phase times (ansible/filter_plugins/phases.py, printed by the role's main.yml)
and the status table's service cells (status.py). The expected values are what the role's
Jinja gave for the same inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ansible" / "filter_plugins"))
from phases import library_phase_seconds, library_phase_words
from status import library_service_cells


def test_each_phase_took_the_time_since_the_one_before_and_the_total_counts_until_now():
    times = {"begin": 1000.0, "pulled": 1003.25, "migrated": "1010.5"}
    seconds = library_phase_seconds(times, 1020.04)
    assert seconds == {"pulled": "3.2", "migrated": "7.2", "total": "20.0"}
    assert library_phase_words(seconds) == "pulled=3.2s migrated=7.2s total=20.0s "
    assert library_phase_seconds({"begin": "1000.0"}, 1020.04) == {"total": "20.0"}


def container(name, state, status, service):
    return {"Names": ["/" + name], "State": state, "Status": status, "Labels": {"com.docker.compose.service": service}}


CONTAINERS = [container("library-web-1", "running", "Up 3 minutes (healthy)", "web"),
              container("library-proxy-1", "running", "Up", "proxy"),
              container("library-web-2", "exited", "Exited", "web")]


@pytest.mark.parametrize(("containers", "docker_failed", "bundled_db", "cells"), [
    (CONTAINERS, False, True, {"proxy": "running", "web": "exited+healthy", "db": "missing"}),
    (CONTAINERS, False, "False", {"proxy": "running", "web": "exited+healthy", "db": "external"}),
    (CONTAINERS, True, True, {"proxy": "docker error", "web": "docker error", "db": "docker error"}),
    ([], False, True, {"proxy": "missing", "web": "missing", "db": "missing"}),
])
def test_each_service_has_one_cell(containers, docker_failed, bundled_db, cells):
    assert library_service_cells(containers, docker_failed=docker_failed, bundled_db=bundled_db) == cells
