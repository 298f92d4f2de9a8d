import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from circulation.models import Loan
from conftest import create_books, request_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_books():
    return create_books(105)


def test_default_page_size_is_20(api, many_books):
    body = api.get("/api/v1/books/").json()
    assert body["count"] == 105 and len(body["results"]) == 20
    assert "page=2" in body["next"]


def test_page_size_from_1_to_100_is_served(api, many_books):
    assert len(api.get("/api/v1/books/?page_size=100").json()["results"]) == 100
    assert len(api.get("/api/v1/books/?page_size=7").json()["results"]) == 7
    assert len(api.get("/api/v1/books/?page_size=").json()["results"]) == 20  # empty: not given


# Refused, not clamped or ignored: the schema says 1 to 100, and a client asking for 1000 rows
# must not take 100 for the whole list. "9" * 5000: more digits than Python converts to an int.
@pytest.mark.parametrize("page_size", ["101", "100000", str(10**30), "abc", "-3", "-1", "0", "1e9",
                                       "%00", "+5", pytest.param("9" * 5000, id="5000-digits")])
def test_page_size_outside_1_to_100_is_a_400_naming_it(api, many_books, page_size):
    response = api.get(f"/api/v1/books/?page_size={page_size}")
    assert response.status_code == 400, response.content
    assert "page_size" in response.json()["errors"]


@pytest.mark.parametrize("page", ["0", "-1", "7", "99999999999999999999999", "abc", "1.5", "%00"])
def test_absurd_page_numbers_are_a_json_404(api, many_books, page):
    response = api.get(f"/api/v1/books/?page={page}")
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert "page parameter" in response.json()["detail"]


def test_last_page(api, many_books):
    assert len(api.get("/api/v1/books/?page=6").json()["results"]) == 5


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# Cold: the book list and the catalogue page come from the page cache when warm
# (test_page_cache.py); here they are rendered, as after a checkout.
@pytest.mark.parametrize(
    "path", ["/api/v1/books/", "/api/v1/copies/", "/api/v1/authors/", "/"]
)
def test_lists_run_a_constant_number_of_queries(api, path):
    create_books(5)
    size = "page_size=" if path.startswith("/api/") else "x="
    count_queries(api, f"{path}?{size}20")  # warm up (throttle cache rows, content types)
    small = request_queries(api, f"{path}?{size}20", cold=True)
    create_books(120, authors_per_book=3, copies_per_book=3)
    assert request_queries(api, f"{path}?{size}20", cold=True) == small
    assert request_queries(api, f"{path}?{size}100", cold=True) == small
    assert small.catalogue <= 3  # a count, the page, the books' authors


def test_loan_list_runs_a_constant_number_of_queries(as_user, staff, django_assert_num_queries):
    client = as_user(staff)
    books = create_books(30, copies_per_book=1)
    for book in books[:3]:
        Loan.objects.create(copy=book.copies.get(), borrower=staff)
    count_queries(client, "/api/v1/loans/")
    small = count_queries(client, "/api/v1/loans/")
    for book in books[3:]:
        Loan.objects.create(copy=book.copies.get(), borrower=staff)
    with django_assert_num_queries(small):
        client.get("/api/v1/loans/?page_size=100")


def test_admin_loan_list_runs_a_constant_number_of_queries(client, django_user_model,
                                                           django_assert_num_queries):
    admin = django_user_model.objects.create_superuser("root", "root@example.invalid", "pw")
    client.force_login(admin)
    books = create_books(12, copies_per_book=1)
    Loan.objects.create(copy=books[0].copies.get(), borrower=admin)
    count_queries(client, "/admin/circulation/loan/")
    small = count_queries(client, "/admin/circulation/loan/")
    for book in books[1:]:  # each row names its copy, whose name includes its book
        Loan.objects.create(copy=book.copies.get(), borrower=admin)
    with django_assert_num_queries(small):
        client.get("/admin/circulation/loan/")


@pytest.mark.parametrize("path", ["/api/v1/copies/", "/api/v1/loans/", "/"])
def test_lists_of_copies_loans_and_the_catalogue_page_leave_descriptions_unread(
        as_user, staff, path):
    # A description can be 10 000 characters; these lists show none.
    books = create_books(3, copies_per_book=1)
    Loan.objects.create(copy=books[0].copies.get(), borrower=staff)
    client = as_user(staff)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    read = [q["sql"] for q in queries if '"catalog_book"' in q["sql"]]
    assert read and not [sql for sql in read if '"catalog_book"."description"' in sql]


@pytest.mark.parametrize("path", ["/api/v1/books/?page=2", "/?page=2"])
def test_later_pages_count_copies_for_their_own_rows_alone(api, path):
    # Copy counts are a subquery per row: under a plain OFFSET, PostgreSQL computes them for
    # every row it skips (core.paginator).
    create_books(45)
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path).status_code == 200
    (page,) = [q["sql"] for q in queries if '"copies_total"' in q["sql"]]
    assert re.search(r"IN \(SELECT .+ LIMIT 20 OFFSET 20\)", page)


def test_later_pages_hold_the_rows_their_order_puts_there(api, staff, client):
    books = create_books(45, copies_per_book=1)
    for book in books[::4]:  # some books have no copy left to lend
        Loan.objects.create(copy=book.copies.get(), borrower=staff)
    lendable = sorted((b.title for b in books[1:] if books.index(b) % 4), reverse=True)
    pages = [api.get("/api/v1/books/", {"available": "true", "ordering": "-title",
                                        "page": n}).json()["results"] for n in (1, 2)]
    assert [book["title"] for page in pages for book in page] == lendable
    assert all(book["copies_available"] == 1 for page in pages for book in page)
    html = client.get("/", {"page": 3}).content.decode()
    assert re.findall(r'<a href="/books/\d+/">([^<]+)</a>', html) == sorted(
        b.title for b in books)[40:]
