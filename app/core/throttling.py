"""Request rate limits, for the API, the website's search and the sign-in forms alike.

The counters live in the database cache (settings.CACHES), shared by every worker and host,
and count a client by its network. DRF imports the throttle classes while
rest_framework.views is still loading, so this module must not import DRF's views.
"""

import ipaddress

from rest_framework import throttling
from rest_framework.settings import api_settings


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
