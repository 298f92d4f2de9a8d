"""What the schema forbids, the API refuses (a 400 naming the field) instead of guessing; what
it allows, the API accepts. Each case here was a disagreement schemathesis found."""

from urllib.parse import urlencode

import pytest

from conftest import create_book, make_isbn

pytestmark = pytest.mark.django_db


def assert_names(response, field):
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", 12), ("title", 1.5), ("page_count", "12"), ("page_count", True),
     ("author_ids", "ids-as-text"), ("author_ids", 1), ("language", 1),
     ("publication_date", 20000101)],
)
def test_json_values_of_another_type_are_refused(as_user, staff, book, field, value):
    """DRF read 12 as "12" and "12" as 12: the schema's types are what a client gets to send."""
    if value == "ids-as-text":
        value = [str(book.authors.get().pk)]
    payload = {"title": "T", "author_ids": [], "isbn": make_isbn(), field: value}
    assert_names(as_user(staff).post("/api/v1/books/", payload, format="json"), field)


def test_forms_still_send_text(as_user, staff, book):
    """The browsable API's HTML forms send every value as text, outside the JSON contract
    (urlencoded: api.renderers)."""
    author = book.authors.get()
    form = {"title": "T", "isbn": make_isbn(), "page_count": "12", "author_ids": [author.pk]}
    response = as_user(staff).post("/api/v1/books/", urlencode(form, doseq=True),
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content
    assert response.json()["page_count"] == 12


def test_created_records_answer_with_their_counts(as_user, staff):
    """The counts come from the list's query; a record just created was answered without them."""
    client = as_user(staff)
    author = client.post("/api/v1/authors/", {"name": "New Author"}, format="json")
    assert author.status_code == 201 and author.json()["book_count"] == 0
    book = client.post("/api/v1/books/", {"title": "T", "author_ids": [author.json()["id"]],
                                          "isbn": make_isbn()}, format="json")
    assert book.status_code == 201
    assert (book.json()["copies_total"], book.json()["copies_available"]) == (0, 0)


@pytest.mark.parametrize("value", ["yes", "1", "True", "no", "%00"])
def test_boolean_filters_refuse_anything_but_true_or_false(api, book, value):
    """Django's NullBooleanField read "yes" as no filter at all: the whole list, unfiltered."""
    assert_names(api.get(f"/api/v1/books/?available={value}"), "available")
    assert_names(api.get(f"/api/v1/copies/?available={value}"), "available")


def test_boolean_filters_read_true_false_and_empty(api, book):
    assert api.get("/api/v1/copies/?available=true").json()["count"] == 2
    assert api.get("/api/v1/copies/?available=false").json()["count"] == 0
    assert api.get("/api/v1/copies/?available=").json()["count"] == 2  # empty: not given


def test_an_id_filter_naming_no_row_is_an_empty_page(api, book):
    """A schema-valid id was a 400 ("not one of the available choices")."""
    for query in ("/api/v1/books/?author=987654321", "/api/v1/copies/?book=987654321"):
        response = api.get(query)
        assert response.status_code == 200 and response.json()["count"] == 0, query
    author = book.authors.get()
    assert api.get(f"/api/v1/books/?author={author.pk}").json()["count"] == 1


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "abc", str(2**63)])
def test_an_id_filter_outside_the_id_range_is_refused(api, book, value):
    assert_names(api.get(f"/api/v1/books/?author={value}"), "author")
    assert_names(api.get(f"/api/v1/copies/?book={value}"), "book")


def test_other_filters_read_an_empty_value_as_not_given(api, book):
    create_book("Other", language="fr")
    for query in ("language=", "isbn=", "author=", "published_after=", "ordering=", "page="):
        response = api.get(f"/api/v1/books/?{query}")
        assert response.status_code == 200 and response.json()["count"] == 2, query
