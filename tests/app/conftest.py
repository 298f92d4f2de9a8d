import itertools
import re
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from catalog.isbn import isbn13_check_digit
from catalog.models import Author, Book
from circulation.catalogue_version import CATALOGUE
from circulation.models import Copy

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache server, as it starts with its own database state:
    throttle counts, sessions and cached pages of another test (or run) never leak in."""
    from django.core.cache import cache

    from core import health

    cache.clear()
    health.READINESS.reset()  # nor does /readyz's answer (or its "no migration pending")


FORM = "application/x-www-form-urlencoded"


class FormClient(Client):
    """Django's test client, posting a dict as a browser posts the site's forms (urlencoded):
    the app refuses multipart bodies (core.request_body), Django's default for a dict."""

    def post(self, path, data=None, content_type=FORM, **extra):
        if content_type == FORM and isinstance(data, dict):
            data = urlencode(data, doseq=True)
        return super().post(path, data, content_type, **extra)


@pytest.fixture
def client():
    return FormClient()


def make_isbn() -> str:
    first12 = f"978{next(_serial) + 500000:09d}"
    return first12 + isbn13_check_digit(first12)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("mia", "mia@example.invalid", "pw-mia-test")


@pytest.fixture
def other_member(django_user_model):
    return django_user_model.objects.create_user("otto", "otto@example.invalid", "pw-otto-test")


# What a librarian is granted in the admin: every change to the catalogue and the copies.
LIBRARIAN_PERMISSIONS = [
    f"{action}_{model}"
    for action in ("add", "change", "delete")
    for model in ("author", "book", "copy")
]


@pytest.fixture
def staff(django_user_model):
    """A librarian: staff, with the catalogue's model permissions."""
    user = django_user_model.objects.create_user(
        "sam", "sam@example.invalid", "pw-sam-test", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(codename__in=LIBRARIAN_PERMISSIONS))
    return user


@pytest.fixture
def bare_staff(django_user_model):
    """Staff (may open the admin) without any model permission."""
    return django_user_model.objects.create_user(
        "bea", "bea@example.invalid", "pw-bea-test", is_staff=True
    )


@pytest.fixture
def as_user(api):
    def sign_in(user):
        api.force_authenticate(user)
        return api

    return sign_in


def create_book(title="A Book", authors=("Ann Author",), copies=1, **fields) -> Book:
    book = Book.objects.create(title=title, isbn=fields.pop("isbn", None) or make_isbn(), **fields)
    for name in authors:
        book.authors.add(Author.objects.get_or_create(name=name)[0])
    for n in range(copies):
        Copy.objects.create(book=book, barcode=f"B{book.pk:06d}-{n}", location="Main")
    return book


def create_books(count: int, authors_per_book=2, copies_per_book=2) -> list[Book]:
    """Many books in few queries, for pagination and query-count tests."""
    books = Book.objects.bulk_create(
        Book(title=f"Bulk title {i:04d}", isbn=make_isbn()) for i in range(count)
    )
    authors = Author.objects.bulk_create(
        Author(name=f"Bulk author {next(_serial)}") for _ in range(authors_per_book)
    )
    Book.authors.through.objects.bulk_create(
        Book.authors.through(book=b, author=a) for b in books for a in authors
    )
    Copy.objects.bulk_create(
        Copy(book=b, barcode=f"K{b.pk:07d}-{n}", location="Stacks")
        for b in books
        for n in range(copies_per_book)
    )
    return books


@pytest.fixture
def book(db):
    return create_book("Pride and Prejudice", authors=("Jane Austen",), copies=2)


@pytest.fixture
def copy(book):
    return book.copies.order_by("barcode").first()


def race_checkouts(attempts):
    """Check out at once, from real threads each with its own PostgreSQL connection: one
    thread per (user, copy) of `attempts`, released together. Returns the status codes."""
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    barrier = threading.Barrier(len(attempts))
    statuses = []

    def race(user, copy):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=race, args=attempt) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


class Queries(NamedTuple):
    total: int
    catalogue: int  # on the catalogue's and circulation's tables: what the page itself reads


CATALOGUE_TABLES = re.compile(r'"(catalog|circulation)_')


def request_queries(client, url, *, cold: bool) -> Queries:
    """The queries of one GET of `url` (a 200); cold: right after a change to the catalogue,
    so that no page of it is in the cache."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if cold:
        CATALOGUE.changed()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    sql = [query["sql"] for query in captured]
    return Queries(len(sql), sum(1 for text in sql if CATALOGUE_TABLES.search(text)))
