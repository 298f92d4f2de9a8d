"""API-wide policy: permissions, pagination, throttling, search (errors: library.api_errors)."""

from rest_framework import exceptions, filters, pagination, permissions, status, throttling
from rest_framework.settings import api_settings


class IsStaffOrReadOnly(permissions.BasePermission):
    """Anyone reads the catalogue; only staff change it."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)


class Pagination(pagination.PageNumberPagination):
    """Pages of 1 to 100 rows (a page_size outside that is a 400, not silently clamped or
    ignored, as the schema's limits say); a page past the last is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # the schema's page is an integer: no "last"
    # DRF's "Invalid page." does not say which parameter was wrong.
    invalid_page_message = "Invalid page: the page parameter must be from 1 to the last page."

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size
        # The length first: int() of a 5000-digit string raises ValueError, a 500.
        if not (value.isascii() and value.isdigit() and len(value) <= 3
                and 1 <= int(value) <= self.max_page_size):
            raise exceptions.ValidationError({self.page_size_query_param: [
                f"A whole number from 1 to {self.max_page_size}."]})
        return int(value)

    def get_schema_operation_parameters(self, view):
        page, page_size = super().get_schema_operation_parameters(view)
        page["schema"] = {"type": "integer", "minimum": 1}
        page_size["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return [page, page_size]


class RatesFromSettings:
    """Look the rate up at request time, so override_settings and tests can change it
    (DRF's own classes copy the rates once, at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserThrottle(RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in users only: anonymous clients are AnonThrottle's, and counting them twice
    would double the cache queries of every anonymous request."""

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class SearchFilter(filters.SearchFilter):
    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:  # e.g. a NUL byte: name the parameter
            raise exceptions.ValidationError({self.search_param: exc.detail}) from None


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, refusing a field it does not offer (DRF drops it silently), and
    listing the fields it offers in the schema."""

    def get_ordering(self, request, queryset, view):
        value = request.query_params.get(self.ordering_param, "")
        if value == "":
            return self.get_default_ordering(view)
        offered = self.offered_terms(queryset, view, request)
        terms = value.split(",")
        unknown = [term for term in terms if term not in offered]
        if unknown:
            raise exceptions.ValidationError({self.ordering_param: [
                f"Cannot order by {unknown[0]!r}: use {', '.join(offered)}."]})
        return terms

    def offered_terms(self, queryset, view, request=None) -> list[str]:
        valid = self.get_valid_fields(queryset, view, {"request": request})
        fields = [name for name, _label in valid]
        return [term for name in fields for term in (name, f"-{name}")]

    def get_schema_operation_parameters(self, view):
        (parameter,) = super().get_schema_operation_parameters(view)
        terms = self.offered_terms(view.get_queryset().none(), view)
        parameter["schema"] = {"type": "array", "minItems": 1,
                               "items": {"type": "string", "enum": terms}}
        parameter.update(style="form", explode=False)
        parameter["description"] = "Comma-separated fields; a leading - reverses one."
        return [parameter]


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class LoginThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Password guesses per client address, whoever they claim to be."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
