"""gunicorn.conf.py sizes its workers to the cores the container may use: the CPUs it may run
on, or fewer when its cgroup has a CPU quota (compose's `cpus:`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# Loads the configuration as gunicorn does (it runs the file), in a process of its own: the
# file sets PROMETHEUS_MULTIPROC_DIR, which must not leak into this one.
PROBE = """
import json, runpy, sys
from pathlib import Path
conf = runpy.run_path("gunicorn.conf.py")
print(json.dumps({"cores": [conf["available_cores"](Path(p)) for p in sys.argv[1:]],
                  "workers": conf["workers"], "threads": conf["threads"]}))
"""


def load_conf(tmp_path, cpu_max_files, **env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, cpu_max_files)], cwd=APP, text=True,
        capture_output=True, check=True, timeout=60,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), **env},
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(("cpu_max", "cores"), [
    ("50000 100000", 1),  # half a CPU still needs a worker
    ("100000 100000", 1),
    ("150000 100000", 2),  # a share of a core counts as one
    ("max 100000", None),  # no quota: every CPU it may run on
    (None, None),  # no cgroup v2 file
])
def test_the_cores_are_the_cpu_quota_when_it_is_smaller(tmp_path, cpu_max, cores):
    cpu_max_file = tmp_path / "cpu.max"
    if cpu_max is not None:
        cpu_max_file.write_text(cpu_max + "\n")
    affinity = len(os.sched_getaffinity(0))
    assert load_conf(tmp_path, [cpu_max_file])["cores"] == [min(cores or affinity, affinity)]


def test_workers_and_threads_are_settable(tmp_path):
    conf = load_conf(tmp_path, [], GUNICORN_WORKERS="3", GUNICORN_THREADS="2")
    assert (conf["workers"], conf["threads"]) == (3, 2)
    default = load_conf(tmp_path, [], GUNICORN_WORKERS="", GUNICORN_THREADS="")
    assert 3 <= default["workers"] <= 8 and default["threads"] == 4
