"""How errors become HTTP answers: JSON under /api/, the library's pages elsewhere.

- exception_handler (DRF's EXCEPTION_HANDLER): every error an API view raises is JSON,
  {"detail": "...", "code": "...", "errors": {field: [messages]}} ("errors" only for
  validation); database errors a client can provoke become 4xx, not 500.
- bad_request, permission_denied, page_not_found, server_error: Django's site-wide handlers
  (library.urls), for what happens outside DRF's views.
- Conflict: the API's 409. Apps' services raise their own domain errors, free of HTTP; each
  app's API says which answer each one becomes (circulation.api).
- Protected: the 409 of a deletion other records block (Django's ProtectedError, from
  on_delete=PROTECT or catalog's refuse_to_orphan_books), naming them in "held_by": by kind,
  how many, and the first HELD_BY_ITEMS of them (each model's summary(): id and what names it).
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def is_api(request) -> bool:
    return request.path.startswith("/api/")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


HELD_BY_ITEMS = 10


class Protected(Conflict):
    default_code = "protected"

    def __init__(self, detail: str, held_by: list[dict]):
        super().__init__(detail)
        self.held_by = held_by


def protected(error: ProtectedError | RestrictedError) -> Protected:
    """The 409 of a deletion that `error` refused, naming the records that block it."""
    blocking = getattr(error, "protected_objects", None) or error.restricted_objects
    by_model = {}
    for record in blocking:
        by_model.setdefault(type(record), []).append(record)
    held_by, names = [], []
    for model, records in by_model.items():
        records.sort(key=lambda record: record.pk)
        shown = records[:HELD_BY_ITEMS]
        held_by.append({
            "type": model._meta.model_name,
            "count": len(records),
            "items": [r.summary() if hasattr(r, "summary") else {"id": r.pk} for r in shown],
        })
        meta = model._meta
        kind = meta.verbose_name if len(records) == 1 else meta.verbose_name_plural
        names.append(f"{len(records)} {kind}")
    return Protected(f"Other records still refer to this one ({', '.join(names)}): delete or "
                     "change them first.", held_by)


def exception_handler(exc, context):
    if isinstance(exc, ProtectedError | RestrictedError):
        exc = protected(exc)
    elif isinstance(exc, IntegrityError):
        # A constraint caught what validation could not see (e.g. a racing request).
        exc = Conflict()
    elif isinstance(exc, DataError):
        exc = exceptions.ValidationError({"detail": ["A value is out of range or malformed."]})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handler answers (JSON under /api/)
    response.data = error_body(exc, response.data)
    return response


def error_body(exc, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        first = next(iter(errors.items()), None)
        detail = "Invalid input."
        if first:
            field, messages = first
            message = messages[0] if isinstance(messages, list) and messages else messages
            detail = f"Invalid input: {field}: {message}"
        return {"detail": detail, "code": "invalid", "errors": errors}
    if isinstance(exc, Http404):
        return {"detail": "Not found.", "code": "not_found"}
    if isinstance(exc, PermissionDenied):
        return {"detail": "You do not have permission to perform this action.",
                "code": "permission_denied"}
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    detail = data.get("detail", data) if isinstance(data, dict) else data
    body = {"detail": str(detail), "code": code if isinstance(code, str) else "error"}
    if isinstance(exc, Protected):
        body["held_by"] = exc.held_by
    return body


def bad_request(request, exception):
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE
            # As core.request_body answers (it refuses most such bodies first).
            return JsonResponse(
                {"detail": "The request body is too large.", "code": "body_too_large"},
                status=413,
            )
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return JsonResponse(
            {"detail": "Permission denied.", "code": "permission_denied"}, status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return JsonResponse(
            {"detail": "Internal server error.", "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
