# Gunicorn settings for the image (CMD: gunicorn --config /app/gunicorn.conf.py ...).
# Bad configuration stops start-up here with one line naming the variable: this file runs
# before gunicorn sets up logging, and a SystemExit raised here is printed as-is.
import math
import os
import sys
from pathlib import Path


def _positive_int(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        sys.exit(f"{name} must be a positive integer, got {raw!r}")
    return value


def _check_django_settings():
    # Load the settings in the master so a missing or malformed DJANGO_* variable is one
    # clear line and exit 1 (library.startup), not a worker traceback and a boot loop.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
    from library.startup import exit_on_bad_settings

    exit_on_bad_settings()


CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cores(cpu_max=CPU_MAX):
    """The CPUs this process may use: those it may run on, fewer when its cgroup has a CPU
    quota (cgroup v2's cpu.max, "200000 100000" for compose's `cpus: 2`): a container limited
    to 2 CPUs on a 16-core host would otherwise start workers for 16."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()
        return max(1, min(cores, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 file, or "max": no quota
        return cores


_cores = available_cores()
bind = "0.0.0.0:8000"
# Sized to the cores (GUNICORN_WORKERS overrides): requests are mostly Python, so a process per
# core (Python runs one thread at a time per process), doubled plus one so that a core never
# idles while a worker waits on the database or the cache; at most 8, each holds a copy of
# the app's memory.
workers = _positive_int("GUNICORN_WORKERS", min(2 * _cores + 1, 8))
# Threads keep a worker responsive while one request waits on a slow client, the database or a
# lock (checkouts queue on the copy's row).
worker_class = "gthread"
threads = _positive_int("GUNICORN_THREADS", 4)
# The heartbeat file: /dev/shm is memory-backed and stays writable with a read-only root.
worker_tmp_dir = "/dev/shm"
timeout = 30
# Below the 30 s stop_grace_period compose gives web, so in-flight requests finish before SIGKILL.
graceful_timeout = 25
keepalive = 5
# Django is imported once, in the master, and the workers are forked from it: a new container
# is ready sooner and its start takes less CPU from the one still serving beside it. (The
# database connection opens on the first request, in each worker, never in the master.)
preload_app = True

# Only the reverse proxy reaches this port (the web container publishes none), and its address
# on the compose network is not fixed: trust X-Forwarded-* from any peer unless told otherwise.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# The app logs one JSON line per request itself; gunicorn's own messages go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()

# The control socket would live under $HOME, which is read-only in the image.
control_socket_disable = True

# Metrics of every worker at once (prometheus_client's multiprocess mode): each process writes
# its counts to files in this folder, and /metrics sums them whichever worker answers. Set here,
# before the app and prometheus_client are imported, so that only gunicorn's processes write
# there (a `manage.py` command run beside them keeps its counts to itself). On /tmp, the
# container's tmpfs: the root is read-only.
_metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus-metrics"))
_metrics_dir.mkdir(parents=True, exist_ok=True)


def when_ready(server):
    server.log.info("%d workers of %d threads, for %d cores", workers, threads, _cores)


def on_starting(server):
    # Counts left by an earlier run of gunicorn would be added to this one's (prometheus_client
    # asks for the folder to be emptied before the server starts). A hook, not module code:
    # gunicorn reads this file again on SIGHUP, while its workers' files are in use.
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    # A worker that exited: its live gauges leave the sums; its counters stay in them, so totals
    # never go down when gunicorn replaces a worker.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_metrics_dir))

_check_django_settings()
