"""Request rate limits, for the API, the website's search and the sign-in forms alike.

The counters live in the host's cache (settings.CACHES, Valkey), shared by its workers, and
count a client by its network. DRF imports the throttle classes while rest_framework.views is
still loading, so this module must not import DRF's views.

DRF's own throttles keep every request's time in a list they read and write back whole on
each request: at 600 requests a minute that is 600 timestamps sent both ways per request, and
two requests at once each write back a list missing the other's. SlidingWindow counts instead
(one atomic call, the same few bytes whatever the rate), and estimates the last `duration`
seconds from this window's count and the previous one's, weighted by how much of it is still
within reach: the sliding-window counter of rate limiters such as Cloudflare's. A refused
request is not counted, as in DRF. When the cache does not answer, requests are let through,
except sign-ins (LoginThrottle), which are refused (503) while their counter cannot be kept:
let through, they would be the unlimited password guesses the limit is there to stop.
"""

import ipaddress
import logging
import math

import redis
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from rest_framework import exceptions, status, throttling
from rest_framework.settings import api_settings

# The cache's outage lines go through core.cache's once-a-minute filter (settings.LOGGING).
logger = logging.getLogger("core.cache")

# KEYS: this window's counter, the previous window's. ARGV: the counter's lifetime (ms), two
# windows, so that it is still there as the previous one. Returns both counts.
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, tonumber(redis.call('GET', KEYS[2]) or '0')}
"""


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


class SlidingWindow:
    """allow_request() and wait() for a DRF throttle: self.key, self.num_requests and
    self.duration as DRF's SimpleRateThrottle sets them."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window, self.elapsed = divmod(self.timer(), self.duration)
        keys = [f"{self.key}:{int(window) - age}" for age in (0, 1)]
        try:
            self.current, self.previous = count(keys, 2 * self.duration)
        except redis.RedisError as error:
            return self.uncounted(error)
        if self.estimate(self.current) <= self.num_requests:
            return True
        uncount(keys[0])
        self.current -= 1
        return False

    def uncounted(self, error: redis.RedisError) -> bool:
        """The cache did not count this request: let it through."""
        log_uncounted("throttle: request let through", error)
        return True

    def estimate(self, current: int) -> float:
        """Requests in the last `duration` seconds, by the sliding-window estimate."""
        return self.previous * (1 - self.elapsed / self.duration) + current

    def wait(self):
        """Seconds until one more request is allowed."""
        room = self.num_requests - 1 - self.current  # what the previous window may weigh
        if room < 0:  # this window alone is full: into the next, once this one weighs little
            return (self.duration - self.elapsed
                    + self.duration * (1 - (self.num_requests - 1) / self.current))
        return max(0.0, self.duration * (1 - room / self.previous) - self.elapsed)


def log_uncounted(message: str, error: redis.RedisError) -> None:
    """As django-redis logs its failed calls (core.cache: one line a minute)."""
    interrupted = ConnectionInterrupted(connection=None)
    interrupted.__cause__ = error
    logger.error(message, exc_info=interrupted)


class SignInUnavailable(exceptions.APIException):
    """A sign-in whose attempt could not be counted (the cache does not answer)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Signing in is unavailable for a moment. Try again later."
    default_code = "signin_unavailable"
    # Seconds: the cache client skips a server that failed for 5 s (core.cache), and DRF's
    # exception handler sends this as Retry-After.
    wait = 5


def count(keys: list[str], lifetime: float) -> tuple[int, int]:
    """Count one request in keys[0]; (its count, keys[1]'s count). One atomic call to the
    cache server; with a cache in the process's memory (make run), three calls."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        client = backend.client.get_client(write=True)  # core.cache.FailFastRedis
        made = [backend.make_key(key) for key in keys]
        current, previous = client.eval(COUNT_SCRIPT, 2, *made, math.ceil(lifetime * 1000))
        return int(current), int(previous)
    backend.add(keys[0], 0, lifetime)
    return backend.incr(keys[0]), backend.get(keys[1]) or 0


def uncount(key: str) -> None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    try:
        if isinstance(backend, RedisCache):
            backend.client.get_client(write=True).decr(backend.make_key(key))
        else:
            backend.decr(key)
    except (redis.RedisError, ValueError):  # gone meanwhile: nothing left to take back
        pass


class AnonThrottle(PerNetwork, SlidingWindow, RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserThrottle(PerNetwork, SlidingWindow, RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in users only: anonymous clients are AnonThrottle's, and counting them twice
    would double the cache queries of every anonymous request."""

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class LoginThrottle(PerNetwork, SlidingWindow, RatesFromSettings,
                    throttling.SimpleRateThrottle):
    """Password guesses per client address (IPv6: per /64), whoever they claim to be."""

    scope = "login"
    fails_closed = True  # the schema documents its 503 (api.schema)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def uncounted(self, error: redis.RedisError) -> bool:
        """Fail closed: an attempt that cannot be counted is refused (503), or an outage of
        the cache would lift the limit on password guesses."""
        log_uncounted("throttle: sign-in refused", error)
        raise SignInUnavailable()


def refused_for(request, throttles, view=None) -> float | None:
    """Run DRF throttles outside DRF (the website): None when every one allows the request,
    else the seconds to wait. Each throttle counts the request, as in a DRF view."""
    waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(request, view)]
    if not waits:
        return None
    return max(1.0, *(wait or 1.0 for wait in waits))
