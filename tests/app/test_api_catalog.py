import pytest

from catalog.models import Author, Book
from conftest import create_book, make_isbn

pytestmark = pytest.mark.django_db


def book_payload(**overrides):
    author = Author.objects.get_or_create(name="Mary Shelley")[0]
    payload = {
        "title": "Frankenstein",
        "subtitle": "or, The Modern Prometheus",
        "author_ids": [author.pk],
        "isbn": "0-306-40615-2",
        "publisher": "Lackington",
        "publication_date": "1818-01-01",
        "language": "en",
        "page_count": 280,
        "description": "A scientist and the creature he abandons.",
    }
    payload.update(overrides)
    return payload


def test_anyone_reads_the_catalogue(api, book):
    listing = api.get("/api/v1/books/")
    assert listing.status_code == 200
    [item] = listing.json()["results"]
    assert item["title"] == "Pride and Prejudice"
    assert item["authors"] == [{"id": book.authors.get().pk, "name": "Jane Austen"}]
    assert item["copies_total"] == 2 and item["copies_available"] == 2
    assert api.get(f"/api/v1/books/{book.pk}/").json()["isbn"] == book.isbn
    assert api.get("/api/v1/authors/").json()["results"][0]["book_count"] == 1


@pytest.mark.parametrize(
    ("who", "expected"), [("anonymous", 401), ("member", 403), ("staff", 201)]
)
def test_only_staff_add_books(api, as_user, member, staff, who, expected):
    client = {"anonymous": api, "member": as_user(member) if who == "member" else None,
              "staff": as_user(staff) if who == "staff" else None}[who]
    response = client.post("/api/v1/books/", book_payload(), format="json")
    assert response.status_code == expected, response.content
    assert response["Content-Type"] == "application/json"
    assert Book.objects.filter(title="Frankenstein").exists() == (expected == 201)


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_non_staff_cannot_change_or_delete(api, as_user, member, book, who):
    client = as_user(member) if who == "member" else api
    assert client.patch(f"/api/v1/books/{book.pk}/", {"title": "X"}).status_code in (401, 403)
    assert client.delete(f"/api/v1/books/{book.pk}/").status_code in (401, 403)
    assert client.post("/api/v1/authors/", {"name": "Someone"}).status_code in (401, 403)
    book.refresh_from_db()
    assert book.title == "Pride and Prejudice"


def test_staff_create_stores_isbn13_and_authors(as_user, staff):
    response = as_user(staff).post("/api/v1/books/", book_payload(), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["isbn"] == "9780306406157"
    assert response.json()["authors"][0]["name"] == "Mary Shelley"
    assert Book.objects.get().isbn == "9780306406157"


def test_staff_update_and_delete(as_user, staff):
    book = create_book("Draft", copies=0)
    client = as_user(staff)
    assert client.patch(f"/api/v1/books/{book.pk}/", {"title": "Final"}).json()["title"] == "Final"
    assert client.delete(f"/api/v1/books/{book.pk}/").status_code == 204
    assert not Book.objects.exists()


def test_deleting_a_book_with_copies_is_a_conflict(as_user, staff, book):
    response = as_user(staff).delete(f"/api/v1/books/{book.pk}/")
    assert response.status_code == 409
    assert "refer" in response.json()["detail"]


def test_duplicate_isbn_given_as_isbn10_is_refused(as_user, staff):
    create_book(isbn="9780306406157")
    response = as_user(staff).post("/api/v1/books/", book_payload(isbn="0306406152"))
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["isbn"][0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("isbn", "9780306406158", "checksum"),
        ("isbn", "not an isbn", "10 or 13"),
        ("isbn", "9" * 40, "10 or 13"),
        ("title", "x" * 301, "no more than 300"),
        ("title", ["a", "list"], "Not a valid string"),
        ("title", "", "may not be blank"),
        ("title", "nul\x00byte", "Null characters"),
        ("language", "klingon", "not a valid choice"),
        ("page_count", "many", "valid integer"),
        ("page_count", -5, "greater than or equal to 0"),
        ("page_count", 10**15, "less than or equal to"),
        ("publication_date", "1818-13-45", "Date has wrong format"),
        ("author_ids", [987654321], "does not exist"),
        ("author_ids", "Mary Shelley", "Expected a list"),
        ("description", "d" * 10_001, "no more than 10000"),
    ],
)
def test_bad_book_input_is_a_400_naming_the_field(as_user, staff, field, value, message):
    response = as_user(staff).post("/api/v1/books/", book_payload(**{field: value}), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"]
    assert message in str(body["errors"][field])
    assert field in body["detail"]


def test_missing_required_fields_are_named(as_user, staff):
    body = as_user(staff).post("/api/v1/books/", {}, format="json").json()
    assert {"title", "isbn", "author_ids"} <= set(body["errors"])


def test_malformed_json_is_a_400(as_user, staff):
    response = as_user(staff).post(
        "/api/v1/books/", data='{"title": "oops"', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_json_that_is_not_an_object_is_a_400(as_user, staff):
    response = as_user(staff).post("/api/v1/books/", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]


def test_unsupported_media_type_is_a_415(as_user, staff):
    response = as_user(staff).post("/api/v1/books/", data="title=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_wrong_method_is_a_405(api, book):
    response = api.put("/api/v1/books/", {})
    assert response.status_code in (401, 405)
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("language=zz", "language"),
        ("published_after=yesterday", "published_after"),
        ("author=abc", "author"),
        ("isbn=978030640615", "isbn"),
        ("search=nul%00byte", "search"),
    ],
)
def test_bad_filters_are_a_400_naming_the_filter(api, book, query, field):
    response = api.get(f"/api/v1/books/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_filters_search_and_ordering(api):
    austen = create_book("Emma", authors=("Jane Austen",), language="en", isbn="9780306406157")
    create_book("Les Misérables", authors=("Victor Hugo",), language="fr", copies=0)
    create_book("Persuasion", authors=("Jane Austen",), language="en")

    def titles(query):
        response = api.get(f"/api/v1/books/?{query}")
        assert response.status_code == 200, response.content
        return [b["title"] for b in response.json()["results"]]

    assert titles("search=austen") == ["Emma", "Persuasion"]
    assert titles("search=MISÉR") == ["Les Misérables"]
    assert titles("language=fr") == ["Les Misérables"]
    assert titles("isbn=0306406152") == ["Emma"]  # ISBN-10 finds the stored ISBN-13
    assert titles(f"author={austen.authors.get().pk}&ordering=-title") == ["Persuasion", "Emma"]
    assert titles("available=false") == ["Les Misérables"]


@pytest.mark.parametrize("ordering", ["password", "title,password", "-", "title,", " title"])
def test_unknown_ordering_field_is_a_400_naming_it(api, book, ordering):
    """DRF drops a field it does not offer and answers in the default order: the client would
    take that order for the one it asked for."""
    response = api.get(f"/api/v1/books/?ordering={ordering}")
    assert response.status_code == 400, response.content
    assert "ordering" in response.json()["errors"]


def test_ordering_by_offered_fields(api, book):
    create_book("Aardvark")
    titles = [b["title"] for b in api.get("/api/v1/books/?ordering=-title,created_at").json()[
        "results"]]
    assert titles == ["Pride and Prejudice", "Aardvark"]


def test_an_unexpected_error_in_the_api_is_a_json_500(api, book, monkeypatch, client):
    from catalog.api import BookViewSet

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(BookViewSet, "list", explode)
    client.raise_request_exception = False
    response = client.get("/api/v1/books/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}


def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_missing_book_is_a_json_404(api, db):
    assert api.get("/api/v1/books/987654/").json() == {"detail": "Not found.", "code": "not_found"}
    assert api.get("/api/v1/books/abc/").status_code == 404


def test_isbn_helper_makes_valid_isbns():
    assert len(make_isbn()) == 13
