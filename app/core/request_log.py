"""The request log: one JSON line per request, tied together by a request id.

Gunicorn's access log is off; this middleware is the access log. The id comes from the
proxy's X-Request-ID when it looks sane, is generated otherwise, and is echoed back.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.utils.functional import empty

# Log queries select the request log by this name: it stays "library.request".
logger = logging.getLogger("library.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A client-chosen id is copied into logs: keep it short and free of control characters.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PROBE_PATHS = {"/healthz", "/readyz", "/version", "/metrics"}

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamp every log record made while serving a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def incoming_request_id(request) -> str:
    candidate = request.META.get("HTTP_X_REQUEST_ID", "")
    return candidate if SAFE_REQUEST_ID.match(candidate) else uuid.uuid4().hex


def loaded_user_id(request) -> int | None:
    """The signed-in user's id if the request already loaded the user; loading it just for
    the log would cost a query (and fail when the database is down)."""
    user = getattr(request, "user", None)
    user = getattr(user, "_wrapped", user)
    if user is None or user is empty or not user.is_authenticated:
        return None
    return user.pk


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request)
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            self.log(request, status, (time.perf_counter() - started) * 1000)
            current_request_id.reset(token)

    def log(self, request, status: int, duration_ms: float) -> None:
        path = request.path
        if status >= 500:
            level = logging.ERROR
        elif path in PROBE_PATHS and status < 400:
            # Health checks and metrics scrapes arrive every few seconds; at INFO they would
            # drown the log.
            level = logging.DEBUG
        else:
            level = logging.INFO
        logger.log(
            level,
            "request",
            extra={
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "request_id": request.request_id,
                "user_id": loaded_user_id(request),
            },
        )
