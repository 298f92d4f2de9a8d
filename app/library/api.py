"""API-wide policy: pagination, throttling, search (errors: library.api_errors).

Permissions are Django's model permissions (settings.REST_FRAMEWORK): anyone reads, and a
write needs the model's add/change/delete permission, granted per user or group in the admin.
"""

from rest_framework import exceptions, filters, pagination, status, throttling
from rest_framework.settings import api_settings


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100  # larger requests are clamped to this, not refused
    # DRF's "Invalid page." does not say which parameter was wrong.
    invalid_page_message = "Invalid page: the page parameter must be from 1 to the last page."


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


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class LoginThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Password guesses per client address, whoever they claim to be."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
