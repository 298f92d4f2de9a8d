"""The OpenAPI schema, told true: who may call each operation, every status code it can
answer with its error body (core.errors), and the limits the server enforces.

drf-spectacular documents the success response of each operation. This AutoSchema adds, from
the view itself (so permission or throttle changes show up without editing an annotation):
- security: `{}` (no credentials needed) when an anonymous client passes the view's
  permission checks for that method;
- 400 where a body or query parameter can be invalid, 401 everywhere (a bad token is refused
  even where none is needed), 403 for writes (permissions, CSRF) or views that refuse some
  signed-in users, 404 for ids and pages, 409 for writes (a record still referred to, or a
  race the database caught), 413 and 415 for bodies, 429 where the view is throttled, 503
  where its throttle fails closed (sign-in, while the cache cannot count attempts);
- integer path ids from 1 to the largest bigint, JSON-only request bodies, and
  allowEmptyValue on query parameters (an empty value means "not given").
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import parsers, permissions, serializers
from rest_framework.request import Request

from api.filters import ID_SCHEMA


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers: a sentence and a machine-readable code."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    code = serializers.CharField(help_text="e.g. not_found, not_authenticated, throttled.")


class ValidationErrorSerializer(ErrorSerializer):
    """A 400: the first problem in `detail`, every problem by field in `errors` (when the
    request could be read at all)."""

    errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text="Messages by field name (a list of sentences, or nested by item).",
    )


class HeldBySerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The kind of record, e.g. book, copy, loan.")
    count = serializers.IntegerField(help_text="How many of them refer to this record.")
    items = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField()),
        help_text="The first ten, by id: each one's id and what names it (a book's title, a "
                  "copy's barcode, a loan's dates).",
    )


class ProtectedErrorSerializer(ErrorSerializer):
    """A deletion refused because other records still refer to this one (code `protected`)."""

    held_by = HeldBySerializer(
        many=True, required=False,
        help_text="The records that refer to this one, by kind: delete or change them first.",
    )


NO_NUL = "^[^\\u0000]*$"
# What Python's str.strip() (so DRF's trim_whitespace) removes: a required text field must
# hold something else, or it is blank once trimmed.
STRIPPED = (
    "\\t-\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{STRIPPED}][^\\u0000]*$"

ERRORS = {
    400: (ValidationErrorSerializer, "Invalid input: `errors` names each field."),
    401: (ErrorSerializer, "Credentials missing or invalid (e.g. an unknown token)."),
    403: (ErrorSerializer, "Signed in, but not allowed (permission or CSRF check)."),
    404: (ErrorSerializer, "No such record, or a page past the last."),
    409: (ErrorSerializer, "Conflicts with stored data (e.g. still referred to, on loan)."),
    413: (ErrorSerializer, "The body is larger than the server reads (1 MiB by default)."),
    415: (ErrorSerializer, "The body is not JSON."),
    429: (ErrorSerializer, "Too many requests: wait for the Retry-After seconds."),
    503: (ErrorSerializer, "Attempts cannot be counted for a moment (the cache does not "
                           "answer): wait for the Retry-After seconds."),
}


PROTECTED = (ProtectedErrorSerializer, "Other records still refer to this one (an author's "
             "books, a book's copies, a copy's loans): `held_by` names them.")

RETRY_AFTER = {"schema": {"type": "integer", "minimum": 0},
               "description": "Seconds until the next request may be served."}


class AutoSchema(openapi.AutoSchema):
    def get_auth(self):
        auths = [requirement for requirement in super().get_auth() if requirement]
        if self.anonymous_allowed():
            auths.append({})  # OpenAPI's "no credentials needed"
        return auths

    def anonymous_allowed(self) -> bool:
        request = Request(RequestFactory().generic(self.method, self.path))
        request.user = AnonymousUser()
        try:
            return all(p.has_permission(request, self.view) for p in self.view.get_permissions())
        except Exception:  # a permission that needs a real request: assume it refuses
            return False

    def map_parsers(self):
        # The API's contract is JSON; the browsable API's HTML forms are not part of it.
        return [p.media_type for p in self.view.get_parsers() if isinstance(p, parsers.JSONParser)]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            serializer, description = ERRORS[code]
            if code == 409 and self.method == "DELETE":
                serializer, description = PROTECTED
            responses.setdefault(str(code), self._get_response_for_code(
                OpenApiResponse(serializer, description), str(code), direction=direction))
        for code in ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", {})["Retry-After"] = RETRY_AFTER
        return dict(sorted(responses.items()))

    def error_codes(self) -> set[int]:
        writes = self.method not in permissions.SAFE_METHODS
        has_body = writes and self._get_request_body() is not None
        lists = bool(self._get_pagination_parameters())
        codes = {401}
        if has_body or lists or self._get_filter_parameters():
            codes.add(400)
        if writes or not self.every_user_allowed():
            codes.add(403)
        if "{" in self.path or lists:
            codes.add(404)
        if writes:
            codes.add(409)
        if has_body:
            codes |= {413, 415}
        throttles = self.view.get_throttles()
        if throttles:
            codes.add(429)
        if any(getattr(throttle, "fails_closed", False) for throttle in throttles):
            codes.add(503)
        return codes

    def every_user_allowed(self) -> bool:
        """Whether any signed-in user (here one with no permissions) passes this view's checks."""
        request = Request(RequestFactory().generic(self.method, self.path))
        request.user = get_user_model()(username="schema-probe")
        try:
            return all(p.has_permission(request, self.view) for p in self.view.get_permissions())
        except Exception:  # e.g. model permissions look up an unsaved user: it may refuse
            return False

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request":
            return schema
        if (isinstance(field, serializers.CharField) and field.trim_whitespace
                and not field.allow_blank and "pattern" not in schema):
            return {**schema, "pattern": NOT_BLANK}
        return without_nul(schema)

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"] = dict(ID_SCHEMA)
        return parameters

    def _get_filter_parameters(self):
        return [allow_empty(p) for p in super()._get_filter_parameters()]

    def _get_pagination_parameters(self):
        return [allow_empty(p) for p in super()._get_pagination_parameters()]


def allow_empty(parameter: dict) -> dict:
    """`?isbn=` is the same as no isbn: every optional query parameter reads an empty value as
    "not given" (django-filter, DRF's pagination, search and ordering)."""
    parameter = {**parameter, "schema": without_nul(parameter.get("schema", {}))}
    if parameter.get("in") == "query" and not parameter.get("required"):
        parameter["allowEmptyValue"] = True
    return parameter


def without_nul(schema: dict) -> dict:
    """Text the server reads refuses NUL characters (Django's and DRF's text fields, search):
    PostgreSQL cannot store them. A string schema with nothing stricter says so."""
    if schema.get("type") == "string" and not {"pattern", "format", "enum"} & schema.keys():
        return {**schema, "pattern": NO_NUL}
    return schema
