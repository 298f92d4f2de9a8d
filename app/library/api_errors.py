"""The API's error format, for every error DRF handles.

Every error is JSON: {"detail": "...", "code": "...", "errors": {field: [messages]}}
("errors" only for validation). Database errors a client can provoke become 4xx, not 500.
(Separate from library.api: DRF imports the permission classes while rest_framework.views
is still loading, and this module needs rest_framework.views.)
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from library.api import Conflict


def exception_handler(exc, context):
    if isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict("Other records (such as copies or loans) still refer to this one.")
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
    return {"detail": str(detail), "code": code if isinstance(code, str) else "error"}
