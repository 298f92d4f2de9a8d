"""Ops endpoints: /healthz, /readyz, /version.

They are answered by a middleware placed before SecurityMiddleware and CommonMiddleware,
so probes carrying any Host header (a container IP, localhost) are neither rejected by
ALLOWED_HOSTS nor redirected to HTTPS, and the rest of the site keeps its host check.
Nothing here calls request.get_host(). They are outside DRF, hence never throttled.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"unreachable ({exc.__class__.__name__})"
    return "ok"


def check_migrations() -> str:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return f"unknown ({exc.__class__.__name__})"
    if plan:
        return f"pending ({len(plan)})"
    return "ok"


def readyz() -> JsonResponse:
    checks = {"database": check_database()}
    checks["migrations"] = check_migrations() if checks["database"] == "ok" else "unknown"
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        return JsonResponse(
            {"status": "unavailable", "checks": checks, "failed": failed}, status=503
        )
    return JsonResponse({"status": "ok", "checks": checks})


def version() -> JsonResponse:
    return JsonResponse(
        {
            "version": settings.LIBRARY_VERSION,
            "revision": settings.LIBRARY_REVISION,
            "built": settings.LIBRARY_BUILT,
        }
    )


ENDPOINTS = {"/healthz": healthz, "/readyz": readyz, "/version": version}


class OpsEndpointsMiddleware:
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
