"""API-wide policy: pagination, throttling, search (errors: library.api_errors).

Permissions are Django's model permissions (settings.REST_FRAMEWORK): anyone reads, and a
write needs the model's add/change/delete permission, granted per user or group in the admin.
"""

import ipaddress

from rest_framework import exceptions, filters, pagination, status, throttling
from rest_framework.settings import api_settings


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


def client_network(address: str) -> str:
    """Whom a throttle counts: an IPv4 client by its address, an IPv6 client by its /64.
    One IPv6 subscriber or host usually holds a whole /64 (2^64 addresses): counted per
    address, it could pick a fresh one for every request and never be throttled."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address (a misconfigured proxy): counted as given
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class PerNetwork:
    def get_ident(self, request):
        return client_network(super().get_ident(request))


class AnonThrottle(PerNetwork, RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserThrottle(PerNetwork, RatesFromSettings, throttling.UserRateThrottle):
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


class LoginThrottle(PerNetwork, RatesFromSettings, throttling.SimpleRateThrottle):
    """Password guesses per client address (IPv6: per /64), whoever they claim to be."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def refused_for(request, throttles, view=None) -> float | None:
    """Run DRF throttles outside DRF (the website): None when every one allows the request,
    else the seconds to wait. Each throttle counts the request, as in a DRF view."""
    waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(request, view)]
    if not waits:
        return None
    return max(1.0, *(wait or 1.0 for wait in waits))
