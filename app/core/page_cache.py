"""Whole pages kept in the cache (django.core.cache.cache), answered with 304 Not Modified
when the client already holds them.

A page is stored under a key that includes the current token of a `Version`
(core.data_version) of the data it shows (e.g. the catalogue). A change to that data moves
the token, so no page stored under the old one is ever read again; the old entries simply
expire (PAGE_TTL). The ETag is a hash of the page's bytes, so a 304 never stands for a page
other than the one the client holds.

Only pages that are the same for everyone who asks with the same key may be stored: the
caller leaves out what varies by user, and `storable` refuses a page that used a CSRF token,
a CSP nonce, the user's messages, or set a cookie.

The cache makes pages faster, never makes them fail: when it cannot be reached, pages are
rendered as if nothing were cached (logged as a warning).
"""

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control

from core.data_version import Version

logger = logging.getLogger(__name__)

# How long a stored page lives. Changes made through the app move the version at once;
# this bounds how stale a page can be after a change the app did not see (an SQL script, a
# restore, bulk_create or QuerySet.update(), which send no signals).
PAGE_TTL = 60


def _cache_call(method: str, *args, **kwargs):
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:  # noqa: BLE001 - any cache failure: serve uncached rather than fail
        logger.warning("page cache: cache.%s failed", method, exc_info=True)
        return None


def lookup(request, version: Version, parts: tuple) -> tuple[str, object]:
    """The key of `request`'s page under `version`'s current token, and what the cache holds
    there (None: nothing)."""
    key = page_key(request, version.current(), *parts)
    return key, _cache_call("get", key)


def page_key(request, *parts) -> str:
    """A cache key for `request`'s page: the release (another one may render it otherwise,
    and shares the cache while a deploy switches over), scheme and host (API pages link to
    themselves with absolute URLs), path, language, and the caller's parts: the version's
    token and every query parameter the page reads. Hashed: a long search would not fit in a
    cache key."""
    text = repr((settings.LIBRARY_REVISION, request.scheme, request.get_host(), request.path,
                 translation.get_language(), parts))
    return "page:" + hashlib.sha256(text.encode()).hexdigest()


def query_parameters(request) -> list:
    """The query string as a key part: the same whatever order the parameters come in."""
    return sorted(request.GET.lists())


def storable(request, response) -> bool:
    """Whether the response could be served to anyone else who asks with the same key."""
    messages = getattr(request, "_messages", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # the page holds a CSRF token
        and not isinstance(getattr(request, "_csp_nonce", None), str)  # ... or a CSP nonce
        and not getattr(messages, "used", False)  # ... or showed the user's messages
    )


def serve(request, version: Version, parts: tuple,
          render: Callable[[], HttpResponse]) -> HttpResponse:
    """`request`'s page as stored under `version` and `parts` (what else the page depends
    on), else `render()`'s (a rendered response), stored when `storable`. Either way with an
    ETag, and a 304 when the client's If-None-Match has it."""
    if settings.DEBUG:  # make run: templates change under the developer's hands
        return render()
    key, stored = lookup(request, version, parts)
    if stored is None:
        response = render()
        if not storable(request, response):
            return response
        # Weak: the proxy compresses pages, and the compressed bytes are not these.
        etag = f'W/"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        # A plain tuple of text and bytes: what the cache's JSON stores (core.cache).
        _cache_call("set", key, (etag, response["Content-Type"], response.content), PAGE_TTL)
    else:
        etag, content_type, body = stored
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    # Browsers and proxies may keep the page but must ask again before using it: a checkout
    # shows on the very next read.
    patch_cache_control(response, no_cache=True)
    return get_conditional_response(request, etag=etag, response=response)


def fragment(request, version: Version, parts: tuple, render: Callable[[], str]) -> str:
    """The text stored under `version` and `parts`, else `render()`'s, stored: a part of a
    page that is the same for everyone (the caller keeps what varies by user out of it)."""
    if settings.DEBUG:
        return render()
    key, text = lookup(request, version, ("fragment", *parts))
    if text is None:
        text = render()
        _cache_call("set", key, text, PAGE_TTL)
    return text
