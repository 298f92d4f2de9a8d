import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.django_db

APP_DIR = Path(__file__).resolve().parents[2] / "app"

LOW_RATES = {"anon": "3/minute", "user": "5/minute", "login": "2/minute"}


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LOW_RATES}
    cache.clear()
    yield
    cache.clear()


def statuses(client, url, count, method="get", **kwargs):
    return [getattr(client, method)(url, **kwargs).status_code for _ in range(count)]


def test_anonymous_clients_get_429_after_the_limit(api, low_rates):
    assert statuses(api, "/api/v1/books/", 5) == [200, 200, 200, 429, 429]
    response = api.get("/api/v1/authors/")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_signed_in_users_have_their_own_limit(as_user, member, low_rates):
    assert statuses(as_user(member), "/api/v1/books/", 6) == [200] * 5 + [429]


def cache_server():
    """The cache server itself, past Django's cache API."""
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def test_counts_live_in_the_shared_cache_server(api, low_rates):
    api.get("/api/v1/books/")
    # The counter is a key in the cache server (Valkey), which every worker of the host uses.
    # One counter per minute-long window (core.throttling.SlidingWindow).
    keys = cache_server().keys(cache.make_key("throttle_anon_127.0.0.1:*"))
    assert [cache_server().get(key) for key in keys] == [b"1"]
    cache_server().flushdb()
    assert api.get("/api/v1/books/").status_code == 200


# Another worker: its own process, its own connections to the cache server, the same settings.
ANOTHER_WORKER = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings
from core.throttling import AnonThrottle
rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": sys.argv[2]}
with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
    request = RequestFactory().get("/api/v1/books/", HTTP_X_FORWARDED_FOR=sys.argv[1])
    request.user = AnonymousUser()
    print(json.dumps([AnonThrottle().allow_request(request, None) for _ in range(2)]))
"""


def another_worker_allows(address, rate):
    result = subprocess.run(
        [sys.executable, "-c", ANOTHER_WORKER, address, rate], cwd=APP_DIR, capture_output=True,
        text=True, timeout=60, check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "library.settings_test"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_workers_share_the_counts_through_the_cache_server(api, low_rates):
    client = {"HTTP_X_FORWARDED_FOR": "203.0.113.50"}
    assert [api.get("/api/v1/books/", **client).status_code for _ in range(2)] == [200, 200]
    # The other worker sees this one's two requests: it allows a third, refuses a fourth...
    assert another_worker_allows("203.0.113.50", LOW_RATES["anon"]) == [True, False]
    # ... and this one sees the other's.
    assert api.get("/api/v1/books/", **client).status_code == 429


def test_clients_are_told_apart_by_the_proxy_address(api, low_rates):
    for _ in range(3):
        api.get("/api/v1/books/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert api.get("/api/v1/books/", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # A client-supplied address before the proxy's own entry does not buy a fresh quota.
    spoofed = "198.51.100.1, 203.0.113.7"
    assert api.get("/api/v1/books/", HTTP_X_FORWARDED_FOR=spoofed).status_code == 429
    assert api.get("/api/v1/books/", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


def test_token_login_is_throttled(api, member, low_rates):
    payload = {"username": "mia", "password": "wrong"}
    assert statuses(api, "/api/v1/auth/token/", 3, method="post", data=payload) == [400, 400, 429]


@pytest.mark.parametrize("login_form", ["/api/auth/login/", "/admin/login/"])
def test_sign_in_forms_share_the_token_endpoint_limit(client, member, low_rates, login_form):
    """Unthrottled, the sign-in forms were a way around the token endpoint's limit."""
    guess = {"username": "mia", "password": "wrong"}
    assert client.post("/api/v1/auth/token/", guess).status_code == 400
    assert client.post(login_form, guess).status_code == 200  # the form again, with an error
    refused = client.post(login_form, {"username": "mia", "password": "pw-mia-test"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    if login_form.startswith("/api/"):
        assert refused.json()["code"] == "throttled"
    assert client.get(login_form).status_code == 200  # reading the form costs nothing
    assert client.post("/api/v1/auth/token/", guess).status_code == 429


def test_ops_endpoints_are_never_throttled(api, low_rates):
    assert set(statuses(api, "/healthz", 10)) == {200}
    assert set(statuses(api, "/version", 10)) == {200}


# --- the website's search ---------------------------------------------------------------------

def test_website_search_is_throttled_with_a_429_page(client, low_rates):
    assert statuses(client, "/", 3, data={"q": "austen"}) == [200, 200, 200]
    refused = client.get("/", {"q": "austen", "page": "2"})
    assert refused.status_code == 429
    assert "text/html" in refused["Content-Type"]
    assert "Too many searches" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert client.get("/").status_code == 200  # browsing without a search stays free


def test_website_search_and_the_api_share_one_counter(client, api, low_rates):
    assert statuses(client, "/", 2, data={"q": "austen"}) == [200, 200]
    assert cache_server().keys(cache.make_key("throttle_anon_127.0.0.1:*"))  # the shared cache
    assert api.get("/api/v1/books/").status_code == 200
    assert client.get("/", {"q": "austen"}).status_code == 429
    assert api.get("/api/v1/books/").status_code == 429


def test_signed_in_searchers_have_the_user_limit(client, member, low_rates):
    client.force_login(member)
    assert statuses(client, "/", 6, data={"q": "x"}) == [200] * 5 + [429]


# --- IPv6 clients are counted per /64 ---------------------------------------------------------

@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:aa:bb::1", "2001:db8:aa:bb::/64"),
        ("2001:DB8:AA:BB:ffff:ffff:ffff:fffe", "2001:db8:aa:bb::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_throttles_count_ipv6_clients_by_their_64(address, counted_as):
    from core.throttling import client_network

    assert client_network(address) == counted_as


def test_rotating_addresses_within_a_64_does_not_reset_the_login_limit(api, member, low_rates):
    guess = {"username": "mia", "password": "wrong"}

    def attempt(address):
        return api.post("/api/v1/auth/token/", guess, HTTP_X_FORWARDED_FOR=address).status_code

    assert [attempt("2001:db8:aa:bb::1"), attempt("2001:db8:aa:bb::2")] == [400, 400]
    assert attempt("2001:db8:aa:bb:1234:5678:9abc:def0") == 429
    assert attempt("2001:db8:aa:cc::1") == 400  # another /64 is another client


@pytest.mark.parametrize("login_form", ["/api/auth/login/", "/admin/login/"])
def test_sign_in_forms_count_ipv6_clients_by_their_64(client, member, low_rates, login_form):
    guess = {"username": "mia", "password": "wrong"}
    for host in range(1, 3):
        response = client.post(login_form, guess, HTTP_X_FORWARDED_FOR=f"2001:db8:aa:bb::{host}")
        assert response.status_code == 200
    refused = client.post(login_form, guess, HTTP_X_FORWARDED_FOR="2001:db8:aa:bb::99")
    assert refused.status_code == 429


def test_website_search_counts_ipv6_clients_by_their_64(client, low_rates):
    addresses = [f"2001:db8:aa:bb::{n:x}" for n in range(1, 5)]
    codes = [client.get("/", {"q": "x"}, HTTP_X_FORWARDED_FOR=a).status_code for a in addresses]
    assert codes == [200, 200, 200, 429]


# --- The sliding window: counted in one atomic call, the previous minute weighed in ------------

def anon_request(address="203.0.113.90"):
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().get("/api/v1/books/", HTTP_X_FORWARDED_FOR=address)
    request.user = AnonymousUser()
    return request


def anon_throttle_at(seconds):
    """An AnonThrottle whose clock reads `seconds` (rate: LOW_RATES's 3/minute)."""
    from core.throttling import AnonThrottle

    throttle = AnonThrottle()
    throttle.timer = lambda: seconds
    return throttle


def allowed_at(seconds, count=1):
    return [anon_throttle_at(seconds).allow_request(anon_request(), None) for _ in range(count)]


def test_the_previous_minute_weighs_in_as_it_slides_away(low_rates):
    start = 600 * 60  # the start of a minute-long window
    assert allowed_at(start + 50, 4) == [True, True, True, False]
    # 15 s into the next window: the 3 requests of the previous one weigh 3 × 45/60 = 2.25,
    # so one more fits (3.25 would not: only 3 a minute).
    assert allowed_at(start + 75, 2) == [False, False]
    assert allowed_at(start + 80, 2) == [True, False]  # 3 × 40/60 + 1 = 3
    # Refused requests were not counted: by 40 s in, the old window weighs 1, so 2 more fit.
    assert allowed_at(start + 100, 3) == [True, False, False]


def test_a_refused_client_is_told_when_the_next_request_fits(low_rates):
    start = 601 * 60
    assert allowed_at(start + 10, 3) == [True, True, True]
    throttle = anon_throttle_at(start + 10)
    assert throttle.allow_request(anon_request(), None) is False
    # This window alone is full: into the next until its 3 weigh ≤ 2, i.e. 20 s into it.
    assert throttle.wait() == pytest.approx(50 + 20)
    assert allowed_at(start + 60 + 19) == [False]
    assert allowed_at(start + 60 + 21) == [True]


def test_concurrent_requests_are_each_counted(low_rates, settings):
    """DRF's own throttle reads a list and writes it back, so requests at the same moment each
    write back a list without the others': more got through than the rate."""
    from concurrent.futures import ThreadPoolExecutor

    from core.throttling import AnonThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**LOW_RATES, "anon": "20/minute"}}

    def one(_):
        return AnonThrottle().allow_request(anon_request("203.0.113.91"), None)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(64)))
    assert results.count(True) == 20


def test_a_cache_in_the_process_memory_counts_the_same(low_rates, settings):
    """make run's cache (no CACHE_URL): the same counts, without the cache server's script."""
    server = cache_server()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "throttle-test"}}
    start = 602 * 60
    assert allowed_at(start + 50, 4) == [True, True, True, False]
    assert allowed_at(start + 80, 2) == [True, False]  # 3 × 40/60 + 1 = 3, as with Valkey
    assert not server.keys("*throttle_anon_203.0.113.90*")  # counted in memory alone
