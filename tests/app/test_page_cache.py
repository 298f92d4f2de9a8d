"""The page cache (core.page_cache) under the catalogue's version: what it serves is never
stale after a change made through the app, never another user's, and a 304 stands only for
the page the client holds."""

import io
import json
import re

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.test import APIClient

from circulation.catalogue_version import CATALOGUE
from circulation.models import Copy
from conftest import FormClient, create_book, create_books, request_queries
from core import page_cache
from core.data_version import Version

pytestmark = pytest.mark.django_db

# The catalogue's cached reads, and how each shows a book's availability.
READS = ["/", "/books/{id}/", "/api/v1/books/", "/api/v1/books/{id}/"]


def availability(client, url: str) -> tuple[int, int]:
    """(available, total) copies of the one book in the catalogue, as `url` shows them."""
    response = client.get(url)
    assert response.status_code == 200
    if url.startswith("/api/"):
        body = response.json()
        book = body["results"][0] if "results" in body else body
        return book["copies_available"], book["copies_total"]
    (found,) = re.findall(r"(\d+) of (\d+) available", response.content.decode())
    return int(found[0]), int(found[1])


@pytest.fixture
def cached_read(book):
    """A read of `book` through one of READS, already in the cache."""

    def read(template: str, client=None):
        client = client or APIClient()
        url = template.format(id=book.pk)
        first = client.get(url)
        assert first.status_code == 200
        warm = request_queries(client, url, cold=False)
        assert warm.catalogue == 0  # served from the cache
        return client, url

    return read


def as_in_production(django_capture_on_commit_callbacks):
    """Writes commit, so the version is replaced again when they do (as it is outside tests)."""
    return django_capture_on_commit_callbacks(execute=True)


@pytest.mark.parametrize("template", READS)
def test_a_checkout_and_a_return_show_on_the_very_next_read(
        template, cached_read, member, staff, copy, django_capture_on_commit_callbacks):
    client, url = cached_read(template)
    assert availability(client, url) == (2, 2)
    with as_in_production(django_capture_on_commit_callbacks):
        loan = APIClient()
        loan.force_authenticate(member)
        loan = loan.post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
    assert loan.status_code == 201
    assert availability(client, url) == (1, 2)
    with as_in_production(django_capture_on_commit_callbacks):
        desk = APIClient()
        desk.force_authenticate(staff)
        assert desk.post(f"/api/v1/loans/{loan.json()['id']}/return/").status_code == 200
    assert availability(client, url) == (2, 2)


@pytest.mark.parametrize("template", READS)
def test_a_new_copy_shows_on_the_very_next_read(
        template, cached_read, staff, book, django_capture_on_commit_callbacks):
    client, url = cached_read(template)
    with as_in_production(django_capture_on_commit_callbacks):
        desk = APIClient()
        desk.force_authenticate(staff)
        added = desk.post("/api/v1/copies/", {"book": book.pk, "barcode": "NEW-1",
                                              "location": "Main"}, format="json")
    assert added.status_code == 201, added.content
    assert availability(client, url) == (3, 3)


def test_a_signed_in_readers_list_follows_the_catalogue_too(cached_read, member, copy):
    reader = Client()
    reader.force_login(member)
    client, url = cached_read("/", reader)
    Copy.objects.filter(pk=copy.pk).delete()
    assert availability(client, url) == (1, 1)


def test_an_edit_in_the_admin_shows_on_the_next_read(cached_read, book, django_user_model):
    client, url = cached_read("/")
    admin = FormClient()  # posts the admin's form as a browser does
    admin.force_login(django_user_model.objects.create_superuser("root", "r@example.invalid"))
    response = admin.post(f"/admin/catalog/author/{book.authors.get().pk}/change/",
                          {"name": "J. Austen"})
    assert response.status_code == 302
    assert "J. Austen" in client.get(url).content.decode()


def test_seeding_shows_on_the_next_read(cached_read):
    client, url = cached_read("/")  # bulk_create sends no signals: the command says so itself
    call_command("seed_library", books=3, stdout=io.StringIO())
    assert "4 titles in the catalogue" in client.get(url).content.decode()


@pytest.mark.parametrize("template", READS)
def test_a_matching_etag_is_a_304_until_the_catalogue_changes(template, book, copy, member):
    client = APIClient()
    url = template.format(id=book.pk)
    first = client.get(url)
    etag = first["ETag"]
    assert first["Cache-Control"] == "no-cache"  # a browser asks again before each use
    unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH='W/"something-else"').status_code == 200
    borrower = APIClient()
    borrower.force_authenticate(member)
    borrower.post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


@pytest.mark.parametrize("template", ["/", "/books/{id}/"])
def test_a_signed_in_page_is_never_served_to_anyone_else(template, book, member, other_member):
    url = template.format(id=book.pk)
    anonymous = Client()
    assert "Sign in" in anonymous.get(url).content.decode()
    mia, otto = Client(), Client()
    mia.force_login(member)
    otto.force_login(other_member)
    for client, name, other in ((mia, "mia", "otto"), (otto, "otto", "mia"),
                                (mia, "mia", "otto")):
        response = client.get(url)
        html = response.content.decode()
        assert f"Sign out ({name})" in html and f"({other})" not in html
        assert "csrfmiddlewaretoken" in html
        assert not response.has_header("ETag")  # rendered for this user alone
    anonymous_again = anonymous.get(url)
    assert "Sign out" not in anonymous_again.content.decode()
    # Shared caches on the way keep a signed-in user's page apart from everyone's.
    assert "Cookie" in anonymous_again["Vary"]


def test_the_book_json_is_the_same_for_every_user(book, member, staff):
    # Everyone is served one cached copy: a field that varied by user would leak. Each is
    # rendered afresh here, so such a field fails this test.
    bodies = []
    for user in (None, member, staff):
        client = APIClient()
        client.force_authenticate(user)
        for url in ("/api/v1/books/", f"/api/v1/books/{book.pk}/"):
            CATALOGUE.changed()
            bodies.append((url, client.get(url).content))
    assert len(set(bodies)) == 2


@pytest.mark.parametrize(("url", "accept"), [
    ("/api/v1/books/?format=api", "text/html"),  # the browsable API: the user's name, a token
    ("/api/v1/books/", "application/json; indent=4"),  # other bytes than the plain JSON's
    ("/api/v1/books/?utm_source=mail", "application/json"),  # a parameter the list ignores
])
def test_api_answers_that_are_not_the_shared_json_are_not_cached(book, staff, url, accept):
    client = APIClient()
    client.force_authenticate(staff)
    first = client.get(url, HTTP_ACCEPT=accept)
    assert first.status_code == 200
    assert not first.has_header("ETag")
    assert request_queries(client, url, cold=False).catalogue > 0


@pytest.mark.parametrize("mark", ["csrf token", "csp nonce", "messages", "cookie"])
def test_a_page_holding_something_of_the_users_is_not_stored(rf, mark):
    request, response = rf.get("/"), HttpResponse("a page")
    assert page_cache.storable(request, response)
    if mark == "csrf token":
        get_token(request)
    elif mark == "csp nonce":
        request._csp_nonce = "bm9uY2U="
    elif mark == "messages":
        request._messages = CookieStorage(request)
        list(request._messages)
    else:
        response.set_cookie("chosen", "1")
    assert not page_cache.storable(request, response)


def test_a_change_replaces_the_version_again_when_it_commits(book,
                                                             django_capture_on_commit_callbacks):
    # Between the write and its commit another request can render the page from the data as it
    # was, and store it under the version of that moment: it must not outlive the commit.
    before = CATALOGUE.current()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            Copy.objects.create(book=book, barcode="LATE-1", location="Main")
            during = CATALOGUE.current()
        assert CATALOGUE.current() == during  # not committed yet
    assert len({before, during, CATALOGUE.current()}) == 3


class UnreachableCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("the cache is unreachable")

        return fail


def test_pages_are_served_and_writes_succeed_when_the_cache_is_unreachable(
        monkeypatch, caplog, book, member, copy):
    monkeypatch.setattr(page_cache, "cache", UnreachableCache())
    client = Client()
    for _ in range(2):
        response = client.get("/")
        assert response.status_code == 200 and "2 of 2 available" in response.content.decode()
    borrower = APIClient()
    borrower.force_authenticate(member)
    assert borrower.post("/api/v1/loans/checkout/", {"copy": copy.pk},
                         format="json").status_code == 201
    assert "1 of 2 available" in client.get("/").content.decode()
    assert "page cache: cache.get failed" in caplog.text


def test_nothing_is_cached_under_debug(client, book, settings):
    settings.DEBUG = True  # make run: a template edited must show on the next reload
    client.get("/")
    create_books(1)  # bulk_create: no signal, so only a fresh render shows it
    response = client.get("/")
    assert "2 titles in the catalogue" in response.content.decode()
    assert not response.has_header("ETag")


# 2 000 books: 100 pages of 20, enough for a query per row or a page computed over the whole
# catalogue to show, and seeded with bulk_create in about a second. The 10 000-book catalogue
# is app/bench's, with its latency figures.
LIST_PAGES = ["/", "/?page=2", "/?q=bulk", "/api/v1/books/", "/api/v1/books/?page_size=100",
              "/api/v1/books/?page=2", "/api/v1/books/?search=bulk&ordering=-title"]


def test_list_pages_run_the_same_queries_at_24_and_2000_books():
    client = Client()
    create_books(24)
    for url in LIST_PAGES:  # warm up: throttle counters, content types, the version
        client.get(url)

    def counted():
        return {url: (request_queries(client, url, cold=True),
                      request_queries(client, url, cold=False)) for url in LIST_PAGES}

    small = counted()
    create_books(2000 - 24, authors_per_book=3, copies_per_book=3)
    # Statistics of the tables as filled, as autovacuum keeps them in production: left from an
    # emptier moment, they once led PostgreSQL to a search plan that ran for minutes.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_book, catalog_author, catalog_book_authors,"
                       " circulation_copy, circulation_loan")
    large = counted()
    assert json.dumps(large) == json.dumps(small)
    assert [url for url, (_cold, warm) in large.items() if warm.catalogue] == []


def test_a_book_added_to_a_long_catalogue_shows_on_its_page(client):
    create_books(45)
    client.get("/", {"page": 3})
    create_book("Zzz Last Of All", copies=1)
    assert "Zzz Last Of All" in client.get("/", {"page": 3}).content.decode()


def test_another_release_renders_its_own_pages(client, book, settings):
    # Both releases serve, sharing the cache, while a deploy switches over; each renders
    # pages its own way.
    client.get("/")
    settings.LIBRARY_REVISION = "f" * 40
    assert request_queries(client, "/", cold=False).catalogue > 0


class CountingCache:
    def __init__(self, cache):
        self.cache, self.calls = cache, []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.cache, name)


@pytest.mark.parametrize("template", READS)
def test_a_warm_page_is_one_cache_read_and_the_versions_query(monkeypatch, book, template):
    client, url = APIClient(), template.format(id=book.pk)
    client.get(url)
    counting = CountingCache(page_cache.cache)
    monkeypatch.setattr(page_cache, "cache", counting)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert counting.calls == ["get"]
    assert [q["sql"] for q in queries] == [
        "SELECT last_value FROM circulation_catalogue_version"]


def test_a_change_made_through_another_host_shows_on_the_next_read_here(
        cached_read, member, copy):
    client, url = cached_read("/")
    # Another host: the same database, a cache of its own.
    another_host = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=another_host):
        borrower = APIClient()
        borrower.force_authenticate(member)
        assert borrower.post("/api/v1/loans/checkout/", {"copy": copy.pk},
                             format="json").status_code == 201
    assert availability(client, url) == (1, 2)


def test_cached_pages_are_served_while_the_database_does_not_answer(monkeypatch, cached_read):
    client, url = cached_read("/")  # its token read, its page stored

    def unanswered(self):
        raise OperationalError("the database does not answer")

    # Nothing can change while the database is down: the last token is still the data's.
    monkeypatch.setattr(Version, "_read", unanswered)
    response = client.get(url)
    assert response.status_code == 200 and "2 of 2 available" in response.content.decode()
