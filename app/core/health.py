"""Health endpoints for probes and deploys: /healthz, /readyz, /version.

They are answered by a middleware placed before SecurityMiddleware and CommonMiddleware,
so probes carrying any Host header (a container IP, localhost) are neither rejected by
ALLOWED_HOSTS nor redirected to HTTPS, and the rest of the site keeps its host check.
Nothing here calls request.get_host(). They are outside DRF, hence never throttled.
They answer anyone, so they say only what a load balancer or a deploy needs; the details
are for operators on the host (`manage.py readiness`).

The cache is a check that degrades, never one that fails: the site serves without it
(core.cache), only slower and with throttling off, so a host whose cache is down stays in
rotation. Taking it out would move its load onto the other hosts, or, when every host shares
the fault, take the whole site down for the loss of a speed-up. /readyz then answers 200 with
"status": "degraded" and names the cache, for monitoring to see.

/readyz is public and unthrottled, and the proxy takes a host out of rotation when it does not
answer in time, so it must stay cheap however often it is asked (Readiness):
- the migrations are checked (the migration graph loaded, the applied ones read) only until
  the first check that finds none pending: a process's code, hence its migrations, never
  changes, and migrations are only ever applied, so "none pending" stays true for its life
  (checked again once after the database failed: what answers then may be a restore);
- the database is asked one SELECT 1 and the cache one PING, and the answer serves every
  /readyz of the process for the next second (READY_TTL): a flood of probes costs each
  process one query a second, while a database that stops answering shows within a second;
- one check at a time: while one waits on the database, the other probes wait for it up to
  READY_TTL after it began, then answer that the database is failing, so a hung database
  holds one thread per process, not every thread the probes arrive on.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from core import cache


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


@dataclass(frozen=True)
class Check:
    """One readiness check: `state` is public (/readyz), `detail` is for operators only
    (`manage.py readiness` on the host): exception text and migration names tell an
    attacker which database and code run here."""

    state: str  # ok, degraded (serving without it), failing, pending or unknown
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def blocks(self) -> bool:
        """Not ready: anything but ok, or degraded (the host serves on without it)."""
        return self.state not in ("ok", "degraded")


def failure_text(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}".strip()


def check_database() -> Check:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return Check("failing", failure_text(exc))
    return Check("ok")


def check_migrations() -> Check:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return Check("unknown", failure_text(exc))
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan)
        return Check("pending", f"{len(plan)} to apply: {names}")
    return Check("ok")


def check_cache() -> Check:
    try:
        cache.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "serving without it"
        return Check("degraded", failure_text(exc))
    return Check("ok")


NOT_CHECKED = Check("unknown", "not checked: the database is failing")


def run_checks() -> dict[str, Check]:
    """Every check, in full (`manage.py readiness`)."""
    checks = {"database": check_database()}
    checks["migrations"] = check_migrations() if checks["database"].ok else NOT_CHECKED
    checks["cache"] = check_cache()
    return checks


# Seconds an answer of /readyz is reused, and the longest a probe waits for another's check.
READY_TTL = 1.0


class Readiness:
    """/readyz's checks for this process, cheap however often they are asked (see above)."""

    def __init__(self, ttl: float = READY_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self.lock = threading.Lock()
        self.finished = threading.Condition(self.lock)
        self.reset()

    def reset(self) -> None:
        self.migrated = False  # a check found no migration pending: none will be
        self.checks: dict[str, Check] | None = None
        self.checked_at = 0.0
        self.started: float | None = None  # when the check in flight began

    def current(self) -> dict[str, Check]:
        with self.lock:
            now = self.clock()
            if self.checks is not None and now - self.checked_at < self.ttl:
                return self.checks
            if self.started is not None:  # another thread is checking: wait for it, a while
                began = self.started
                self.finished.wait_for(lambda: self.started != began,
                                       timeout=max(0.0, began + self.ttl - now))
                if self.started != began and self.checks is not None:
                    return self.checks
                return self.no_answer()
            self.started = now
        checks = None
        try:
            checks = self.run()
            return checks
        finally:
            with self.lock:
                self.started = None
                if checks is not None:
                    self.checks, self.checked_at = checks, self.clock()
                self.finished.notify_all()

    def run(self) -> dict[str, Check]:
        checks = {"database": check_database()}
        if not checks["database"].ok:
            # What answers when it is back may be another database (a restore): check again.
            self.migrated = False
            checks["migrations"] = NOT_CHECKED
        elif self.migrated:
            checks["migrations"] = Check("ok")
        else:
            checks["migrations"] = check_migrations()
            self.migrated = checks["migrations"].ok
        checks["cache"] = check_cache()
        return checks

    def no_answer(self) -> dict[str, Check]:
        """While a check has waited on the database for longer than ttl (the cache's PING
        is asked here: it does not wait on the database)."""
        return {"database": Check("failing", f"no answer within {self.ttl:g} s"),
                "migrations": NOT_CHECKED, "cache": check_cache()}


READINESS = Readiness()


def readyz() -> JsonResponse:
    """Public: each check's one-word state, nothing a stranger could learn more from.
    503 while a check blocks; 200 otherwise, "degraded" while the cache is down (see above)."""
    checks = READINESS.current()
    states = {name: check.state for name, check in checks.items()}
    failed = [name for name, check in checks.items() if check.blocks]
    if failed:
        return JsonResponse(
            {"status": "unavailable", "checks": states, "failed": failed}, status=503
        )
    degraded = [name for name, check in checks.items() if not check.ok]
    if degraded:
        return JsonResponse({"status": "degraded", "checks": states, "degraded": degraded})
    return JsonResponse({"status": "ok", "checks": states})


def version() -> JsonResponse:
    return JsonResponse(
        {
            "version": settings.LIBRARY_VERSION,
            "revision": settings.LIBRARY_REVISION,
            "built": settings.LIBRARY_BUILT,
        }
    )


ENDPOINTS = {"/healthz": healthz, "/readyz": readyz, "/version": version}


class HealthEndpointsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"detail": f"Method {request.method} not allowed."}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = endpoint()
        response["Cache-Control"] = "no-store"
        return response
