"""Hand-picked bad input the fuzzer (test_api_fuzz) is unlikely to generate: malformed and
oversized bodies, odd content types, NUL bytes, bad ISBNs, cookies and tokens no server
issued, and records deleted while a request is in flight. Each is a 4xx whose JSON body
names the field or parameter (or, for an unparseable body, says what could not be parsed).
Cases the older modules already cover (test_api_catalog, test_api_circulation,
test_pagination_and_queries) are not repeated here."""

import pytest
from django.test import Client

from circulation import services
from circulation.models import Copy, Loan

pytestmark = pytest.mark.django_db

BIG = 10**30


def post_raw(client, url, body, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def assert_names(response, status, name):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert name in body.get("errors", {}) or name in body["detail"], body


# --- bodies ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param("[" * 100_000 + "]" * 100_000, "nested too deeply", id="deeply-nested"),
        pytest.param('{"title": NaN}', "NaN", id="nan"),
        pytest.param(b'{"title": "\xff\xfe"}', "utf-8", id="not-utf-8"),
        pytest.param('{"page_count": 1' + "0" * 5000 + "}", "digits", id="5000-digit-number"),
    ],
)
def test_unparseable_json_is_a_400_saying_why(as_user, staff, body, says):
    # Sent to the token endpoint too: it parses the body of anonymous clients.
    for client, url in [(as_user(staff), "/api/v1/books/"), (Client(), "/api/v1/auth/token/")]:
        response = post_raw(client, url, body)
        assert response.status_code == 400, (url, response.content)
        assert response.json()["code"] == "parse_error"
        assert "JSON parse error" in response.json()["detail"]
        assert says in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_an_oversized_body_is_a_json_413(staff, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    body = '{"title": "' + "x" * 2000 + '"}' if content_type.endswith("json") else "x" * 2000
    response = post_raw(client, "/api/v1/books/", body, content_type)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("content_type", "body", "name"),
    [
        ("multipart/form-data", "title=x", "multipart"),  # no boundary
        ("application/xml", "<book/>", "application/xml"),
    ],
)
def test_bad_content_types_are_a_4xx_naming_the_problem(as_user, staff, content_type, body,
                                                        name):
    response = post_raw(as_user(staff), "/api/v1/books/", body, content_type)
    assert response.status_code in (400, 415), response.content
    assert name in response.json()["detail"]


def test_nul_byte_in_a_form_body_names_the_field(as_user, staff):
    response = post_raw(as_user(staff), "/api/v1/copies/", "barcode=a%00b&location=x&book=1",
                        "application/x-www-form-urlencoded")
    assert_names(response, 400, "barcode")
    assert "Null characters" in str(response.json()["errors"]["barcode"])


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/authors/", {"name": "n" * 201}, "name"),
        ("/api/v1/copies/", {"barcode": "C1", "location": "l" * 101}, "location"),
        ("/api/v1/copies/", {"barcode": "C1\x00", "location": "x"}, "barcode"),
        ("/api/v1/copies/", {"barcode": "C1", "location": "x", "book": BIG}, "book"),
        ("/api/v1/copies/", {"barcode": "C1", "location": "x", "status": "missing"}, "status"),
        ("/api/v1/books/", {"author_ids": [BIG]}, "author_ids"),
        ("/api/v1/books/", {"author_ids": [True]}, "author_ids"),
        ("/api/v1/books/", {"publication_date": "10000-01-01"}, "publication_date"),
    ],
)
def test_bad_catalogue_input_names_the_field(as_user, staff, url, payload, field):
    assert_names(as_user(staff).post(url, payload, format="json"), 400, field)


@pytest.mark.parametrize(
    "isbn",
    [
        "978-0-306-40615-X",  # X is an ISBN-10 check digit only
        "9770306406157",  # 977 is not a book prefix
        "030640615X",  # wrong ISBN-10 check digit
        "---",
        "",
        "٩٧٨٠٣٠٦٤٠٦١٥٧",  # Arabic-Indic digits: str.isdigit() says yes
    ],
)
def test_bad_isbns_are_refused_naming_isbn(as_user, staff, isbn):
    response = as_user(staff).post("/api/v1/books/", {"title": "T", "author_ids": [],
                                                      "isbn": isbn}, format="json")
    assert_names(response, 400, "isbn")


def test_a_full_width_isbn_is_stored_as_the_ascii_isbn(as_user, staff):
    """It used to be stored as a second spelling of the ISBN, unseen by the unique index."""
    client = as_user(staff)
    payload = {"title": "T", "author_ids": [], "isbn": "０３０６４０６１５２"}
    created = client.post("/api/v1/books/", payload, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["isbn"] == "9780306406157"
    duplicate = client.post("/api/v1/books/", {**payload, "isbn": "0306406152"}, format="json")
    assert_names(duplicate, 400, "isbn")


def test_strings_at_their_maximum_length_are_stored(as_user, staff):
    """The boundary the fuzzer's negative cases stop short of: exactly max_length fits the
    database columns."""
    payload = {"title": "t" * 300, "subtitle": "s" * 300, "publisher": "p" * 200,
               "description": "d" * 10_000, "isbn": "9780306406157", "author_ids": [],
               "page_count": 2_147_483_647, "language": "zh-hans"}
    response = as_user(staff).post("/api/v1/books/", payload, format="json")
    assert response.status_code == 201, response.content


# --- query strings ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("/api/v1/books/?publisher=a%00b", "publisher"),
        ("/api/v1/books/?isbn=97803064%00", "isbn"),
        ("/api/v1/books/?author=%00", "author"),
        (f"/api/v1/books/?author={BIG}", "author"),
        ("/api/v1/books/?published_before=0000-01-01", "published_before"),
        ("/api/v1/copies/?barcode=a%00", "barcode"),
        (f"/api/v1/copies/?book={BIG}", "book"),
        ("/api/v1/copies/?status=%00", "status"),
        ("/api/v1/authors/?name__icontains=a%00", "name__icontains"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(api, book, query, name):
    assert_names(api.get(query), 400, name)


@pytest.mark.parametrize(
    ("query", "name"),
    [("/api/v1/loans/?borrower=%00", "borrower"), (f"/api/v1/loans/?copy={BIG}", "copy")],
)
def test_bad_loan_filters_are_a_400_naming_them(as_user, staff, query, name):
    assert_names(as_user(staff).get(query), 400, name)


def test_an_over_long_search_is_answered(api, book):
    response = api.get("/api/v1/books/", {"search": "x" * 100_000})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("path", [f"/api/v1/books/{BIG}/", "/api/v1/books/%00/",
                                  f"/api/v1/loans/{BIG}/return/"])
def test_absurd_ids_in_the_path_are_a_json_404(as_user, staff, path):
    client = as_user(staff)
    response = client.post(path) if path.endswith("return/") else client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- credentials no server issued -----------------------------------------------------------

@pytest.mark.parametrize("key", ["a\x00b", "abc'--", "x" * 5000])
def test_impossible_token_keys_are_a_401(api, key, db):
    response = api.get("/api/v1/loans/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


@pytest.mark.parametrize("path", ["/", "/api/v1/books/"])
def test_a_session_cookie_smuggling_a_nul_byte_is_no_session(path, book):
    """A quoted cookie value may carry an octal escape (\\000) past the HTTP server;
    Django unescapes it into a NUL byte, which PostgreSQL refuses: it was a 500 per page."""
    client = Client(raise_request_exception=False)
    response = client.get(path, HTTP_COOKIE='sessionid="abcdefgh\\000ijkl"')
    assert response.status_code == 200


# --- records that vanish mid-request ------------------------------------------------------------

def test_checkout_of_a_copy_deleted_after_validation_names_copy(as_user, member, copy,
                                                                monkeypatch):
    real_check_out = services.check_out

    def deleted_meanwhile(copy, borrower):
        Copy.objects.filter(pk=copy.pk).delete()  # as a racing staff request would
        return real_check_out(copy, borrower)

    monkeypatch.setattr(services, "check_out", deleted_meanwhile)
    response = as_user(member).post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
    assert_names(response, 400, "copy")
    assert not Loan.objects.exists()


def test_checkout_of_a_deleted_copy_names_copy(as_user, staff, member, copy):
    assert as_user(staff).delete(f"/api/v1/copies/{copy.pk}/").status_code == 204
    response = as_user(member).post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
    assert_names(response, 400, "copy")


def test_returning_a_loan_deleted_meanwhile_is_a_404(as_user, member, staff, copy, monkeypatch):
    loan = Loan.objects.create(copy=copy, borrower=member)
    real_check_in = services.check_in

    def deleted_meanwhile(loan):
        Loan.objects.filter(pk=loan.pk).delete()  # as an admin would
        return real_check_in(loan)

    monkeypatch.setattr(services, "check_in", deleted_meanwhile)
    response = as_user(staff).post(f"/api/v1/loans/{loan.pk}/return/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
