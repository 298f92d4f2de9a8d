"""The OpenAPI schema as a contract: who may call each operation, every status code it can
answer with its error body, and the limits the server enforces on each parameter.
(test_api_fuzz checks the server against it; these check what it says.)"""

import jsonschema
import jsonschema_rs
import pytest
from rest_framework import permissions
from rest_framework.authtoken.models import Token

from catalog.api import BookViewSet
from circulation.models import Loan

pytestmark = pytest.mark.django_db

PUBLIC_READS = ["/api/v1/books/", "/api/v1/books/{id}/", "/api/v1/authors/",
                "/api/v1/authors/{id}/", "/api/v1/copies/", "/api/v1/copies/{id}/"]
LISTS = ["/api/v1/books/", "/api/v1/authors/", "/api/v1/copies/", "/api/v1/loans/"]
WRITES = {"post", "put", "patch", "delete"}
ERROR_REF = "#/components/schemas/Error"
PROTECTED_ERROR_REF = "#/components/schemas/ProtectedError"
VALIDATION_ERROR_REF = "#/components/schemas/ValidationError"


def served_schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def schema(client):
    return served_schema(client)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def parameter(operation, name) -> dict:
    (found,) = [p for p in operation["parameters"] if p["name"] == name]
    return found


def test_public_reads_need_no_credentials(schema):
    for path in PUBLIC_READS:
        security = schema["paths"][path]["get"]["security"]
        assert {} in security, (path, security)
        assert {"tokenAuth": []} in security  # a token is still read (and a bad one refused)


def test_the_token_endpoint_needs_no_credentials(schema):
    assert {} in schema["paths"]["/api/v1/auth/token/"]["post"]["security"]


def test_writes_and_loans_declare_their_credentials(schema):
    for path, method, operation in operations(schema):
        if path == "/api/v1/auth/token/" or (method == "get" and path in PUBLIC_READS):
            continue
        assert {} not in operation["security"], (method, path)
        assert {"tokenAuth": []} in operation["security"], (method, path)
        assert {"cookieAuth": []} in operation["security"], (method, path)


def expected_error_codes(path, method, operation) -> set[str]:
    codes = {"401", "429"}  # a bad token anywhere; every operation is throttled
    if method in WRITES:
        codes |= {"403", "409"}
    if "requestBody" in operation:
        codes |= {"400", "413", "415"}
    if path in LISTS and method == "get":
        codes |= {"400", "404"}  # a bad filter; a page past the last
    if "{id}" in path:
        codes.add("404")
    if path == "/api/v1/auth/token/":
        codes.add("503")  # sign-in fails closed while the cache cannot count attempts
    return codes


def test_every_operation_documents_the_errors_it_can_answer(schema):
    for path, method, operation in operations(schema):
        documented = {code for code in operation["responses"] if code >= "400"}
        assert documented == expected_error_codes(path, method, operation), (method, path)


def test_error_responses_are_json_of_the_error_components(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code < "400":
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"]
            expected = {"400": VALIDATION_ERROR_REF}.get(code, ERROR_REF)
            if code == "409" and method == "delete":
                expected = PROTECTED_ERROR_REF  # names the records that block the deletion
            assert ref == expected, (method, path, code)
            assert response["description"], (method, path, code)
    errors = schema["components"]["schemas"]
    assert errors["Error"]["required"] == ["code", "detail"]
    assert "errors" in errors["ValidationError"]["properties"]


def test_throttled_answers_document_retry_after(schema):
    for _path, _method, operation in operations(schema):
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_checkout_and_return_say_why_they_refuse(schema):
    checkout = schema["paths"]["/api/v1/loans/checkout/"]["post"]["responses"]
    back = schema["paths"]["/api/v1/loans/{id}/return/"]["post"]["responses"]
    assert "on loan" in checkout["409"]["description"]
    assert "staff" in checkout["403"]["description"]
    assert "already returned" in back["409"]["description"]


def validate(body, schema, ref):
    component = {"$ref": ref, "components": schema["components"]}
    jsonschema.validate(body, component)


def test_the_error_bodies_sent_match_the_components(schema, api, member, book):
    not_found = api.get("/api/v1/books/999999/")
    unauthenticated = api.get("/api/v1/loans/", HTTP_AUTHORIZATION="Token nosuchtoken")
    refused = api.post("/api/v1/books/", {}, format="json",
                       HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member).key}")
    invalid = api.get("/api/v1/books/?page_size=0")
    not_json = api.generic("POST", "/api/v1/auth/token/", "x", content_type="text/plain")
    statuses = [r.status_code for r in (not_found, unauthenticated, refused, invalid, not_json)]
    assert statuses == [404, 401, 403, 400, 415]
    for response in (not_found, unauthenticated, refused, not_json):
        validate(response.json(), schema, ERROR_REF)
    validate(invalid.json(), schema, VALIDATION_ERROR_REF)
    assert invalid.json()["errors"] == {"page_size": ["A whole number from 1 to 100."]}


def test_conflicts_are_documented_error_bodies(schema, as_user, staff, copy):
    Loan.objects.create(copy=copy, borrower=staff)
    response = as_user(staff).post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
    assert response.status_code == 409
    validate(response.json(), schema, ERROR_REF)
    refused = [as_user(staff).delete(url) for url in (
        f"/api/v1/authors/{copy.book.authors.get().pk}/", f"/api/v1/books/{copy.book_id}/",
        f"/api/v1/copies/{copy.pk}/")]
    for response in refused:
        assert response.status_code == 409, response.content
        validate(response.json(), schema, PROTECTED_ERROR_REF)


def test_pages_and_ids_have_their_limits(schema):
    for path in LISTS:
        operation = schema["paths"][path]["get"]
        assert parameter(operation, "page")["schema"] == {"type": "integer", "minimum": 1}
        assert parameter(operation, "page_size")["schema"] == {
            "type": "integer", "minimum": 1, "maximum": 100}
    id_schema = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
    for path, _method, operation in operations(schema):
        if "{id}" in path:
            assert parameter(operation, "id")["schema"] == id_schema, path
    id_filters = {"/api/v1/books/": ["author"], "/api/v1/copies/": ["book"],
                  "/api/v1/loans/": ["borrower", "copy"]}
    for path, names in id_filters.items():
        for name in names:
            assert parameter(schema["paths"][path]["get"], name)["schema"] == id_schema


def test_ordering_lists_exactly_the_offered_fields(schema):
    operation = schema["paths"]["/api/v1/books/"]["get"]
    ordering = parameter(operation, "ordering")
    assert ordering["style"] == "form" and ordering["explode"] is False  # title,-created_at
    offered = [term for field in BookViewSet.ordering_fields for term in (field, f"-{field}")]
    assert ordering["schema"]["items"]["enum"] == offered


def test_optional_query_parameters_allow_an_empty_value(schema):
    for _path, _method, operation in operations(schema):
        for query in (p for p in operation.get("parameters", []) if p["in"] == "query"):
            assert query["allowEmptyValue"] is True, query["name"]


def test_filters_have_their_types_and_formats(schema):
    books = schema["paths"]["/api/v1/books/"]["get"]
    assert parameter(books, "available")["schema"] == {"type": "boolean"}
    assert parameter(books, "published_after")["schema"]["format"] == "date"
    assert "en" in parameter(books, "language")["schema"]["enum"]
    assert parameter(books, "isbn")["schema"]["format"] == "isbn"
    copies = schema["paths"]["/api/v1/copies/"]["get"]
    assert set(parameter(copies, "status")["schema"]["enum"]) == {
        "circulating", "reference", "in_repair", "lost"}


def conforms(value, schema) -> bool:
    """As the fuzzer's validator reads a schema (ECMA regexes: "$" is the end of the text)."""
    return jsonschema_rs.validator_for(schema).is_valid(value)


def isbn_pattern(schema) -> str:
    books = schema["paths"]["/api/v1/books/"]["get"]
    pattern = parameter(books, "isbn")["schema"]["pattern"]
    body = schema["components"]["schemas"]["BookRequest"]["properties"]["isbn"]
    assert body["pattern"] == pattern
    return pattern


@pytest.mark.parametrize("isbn", ["9780306406157", "978-0-306-40615-7", "0306406152",
                                  "0-306-40615-2", "080442957X", "080442957x", "--0306406152",
                                  "979 10 90636 07 1", "０３０６４０６１５２", "0306406152 "])
def test_the_isbn_pattern_admits_isbns_the_server_reads(schema, as_user, staff, isbn):
    assert conforms(isbn, {"type": "string", "pattern": isbn_pattern(schema), "maxLength": 20})
    response = as_user(staff).post("/api/v1/books/", {"title": "T", "author_ids": [],
                                                      "isbn": isbn}, format="json")
    assert response.status_code == 201, response.content
    assert as_user(staff).get("/api/v1/books/", {"isbn": isbn}).json()["count"] == 1


@pytest.mark.parametrize("isbn", ["", " ", "978030640615", "97803064061570", "97803064061X7",
                                  "abc", "\t0306406152", "0306406152\n", "0306406152.",
                                  "0\u2010306406152", "\u2460306406152", "0-3-0-6-4-0-6-1-5-2--",
                                  "978 0 306 40615 7     "])
def test_the_isbn_pattern_refuses_what_the_server_refuses(schema, api, staff, as_user, isbn):
    """Spellings outside the pattern (a tab, a Unicode hyphen, a circled digit, more than
    20 characters) are refused, although normalize_isbn alone could read some of them."""
    assert not conforms(isbn, {"type": "string", "pattern": isbn_pattern(schema), "maxLength": 20})
    response = as_user(staff).post("/api/v1/books/", {"title": "T", "author_ids": [],
                                                      "isbn": isbn}, format="json")
    assert response.status_code == 400 and "isbn" in response.json()["errors"]
    if isbn:  # an empty filter is no filter
        query = as_user(staff).get("/api/v1/books/", {"isbn": isbn})
        assert query.status_code == 400 and "isbn" in query.json()["errors"]


def test_text_the_server_refuses_is_outside_the_schema(schema):
    title = schema["components"]["schemas"]["BookRequest"]["properties"]["title"]
    assert conforms("Emma", title) and conforms(" Emma ", title)
    for refused in ["\x00", "Em\x00ma", " ", "\t\x1d\u3000"]:  # NUL; blank once trimmed
        assert not conforms(refused, title), repr(refused)
    search = parameter(schema["paths"]["/api/v1/books/"]["get"], "search")["schema"]
    assert conforms("", search) and not conforms("a\x00", search)


def test_request_bodies_are_json(schema):
    for path, _method, operation in operations(schema):
        if "requestBody" in operation:
            assert list(operation["requestBody"]["content"]) == ["application/json"], path


def test_security_follows_the_views_permissions(client, monkeypatch):
    """Derived from each view, so a change of permission classes keeps the schema true."""
    monkeypatch.setattr(BookViewSet, "permission_classes",
                        [permissions.DjangoModelPermissionsOrAnonReadOnly])
    books = served_schema(client)["paths"]["/api/v1/books/"]
    assert {} in books["get"]["security"] and {} not in books["post"]["security"]
    monkeypatch.setattr(BookViewSet, "permission_classes", [permissions.IsAuthenticated])
    books = served_schema(client)["paths"]["/api/v1/books/"]
    assert {} not in books["get"]["security"]
