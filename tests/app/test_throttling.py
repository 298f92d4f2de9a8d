import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

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


def test_counts_live_in_the_shared_database_cache(api, low_rates):
    api.get("/api/v1/books/")
    # The counter is a row in PostgreSQL, visible to every worker and host using the database.
    assert cache.get("throttle_anon_127.0.0.1") is not None
    cache.clear()
    assert api.get("/api/v1/books/").status_code == 200


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
