"""Property-based requests against every operation of the app's own OpenAPI schema.

Schemathesis reads the schema /api/schema/ serves and generates requests for each operation:
its coverage phase walks boundary and wrong-type values field by field, its fuzzing phase
draws random valid and invalid requests. They go through the real WSGI application (every
middleware, the real error handlers) to the test PostgreSQL. The property: never a 5xx, and
every 4xx is a JSON object with a "detail". Seeded (derandomize): CI sends the same requests
on every run. Hand-picked cases live in test_api_bad_input.

The database is transactional (autocommit, as in production): inside a test transaction,
one statement PostgreSQL refuses would poison every later request.
"""

import json

import pytest
import schemathesis
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from catalog.models import Author, Book
from circulation.models import Copy, Loan
from conftest import create_book
from library.wsgi import application

# Random requests per operation (the coverage phase adds its own, a few dozen per operation):
# the module takes about 30 s on two busy cores.
EXAMPLES_PER_OPERATION = 10
MAX_ENUM_VALUES = 4
BASE_URL = "http://testserver"  # a host in the test settings' ALLOWED_HOSTS

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the same requests on every run: a red build is reproducible
    database=None,  # no .hypothesis/ directory in the tree
    deadline=None,  # two shared cores: timing is not the property under test
    # fuzz_data is set up once per operation on purpose: its rows are what ids point at.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=False,
)

# Which model an `{id}` in a path refers to, so most generated ids can name a real row.
MODEL_BY_PATH = {"/api/v1/books/": Book, "/api/v1/authors/": Author,
                 "/api/v1/copies/": Copy, "/api/v1/loans/": Loan}


def openapi_document() -> dict:
    """The document /api/schema/ serves, made by the same generator without an HTTP request:
    pytest generates the tests while collecting, before the test database exists (which the
    schema view's throttle needs). test_the_fuzzed_schema_is_the_served_one checks they match."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


def trim_enums(node, keep=MAX_ENUM_VALUES):
    """Cut long enums (the ~100 language codes) to their first few values: the coverage phase
    sends one request per value, the same code path a hundred times over."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and len(node["enum"]) > keep:
            node["enum"] = node["enum"][:keep]
        for value in node.values():
            trim_enums(value, keep)
    elif isinstance(node, list):
        for value in node:
            trim_enums(value, keep)
    return node


schema = schemathesis.openapi.from_dict(trim_enums(openapi_document()))
schema.app = application  # in-process through the WSGI entry point gunicorn serves
# Boundary values just inside the limits are the fuzzing phase's and test_api_bad_input's;
# the coverage phase's positive cases were half of all requests and found nothing new.
schema.config.phases.coverage.generation.update(modes=["negative"])


def test_the_fuzzed_schema_is_the_served_one(db, client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


@pytest.fixture
def fuzz_data(transactional_db, django_user_model):
    staff = django_user_model.objects.create_user("fuzz-staff", is_staff=True)
    member = django_user_model.objects.create_user("fuzz-member")
    other = django_user_model.objects.create_user("fuzz-other")
    for title in ("Middlemarch", "Bleak House", "Dracula"):
        create_book(title, authors=(f"Author of {title}",), copies=2)
    first, second, third = Copy.objects.order_by("barcode")[:3]
    Loan.objects.create(copy=first, borrower=member)
    Loan.objects.create(copy=second, borrower=other)
    Loan.objects.create(copy=third, borrower=staff)
    return {
        "staff": {"Authorization": f"Token {Token.objects.create(user=staff).key}"},
        "member": {"Authorization": f"Token {Token.objects.create(user=member).key}"},
        "anonymous": {},
    }


def point_at_real_rows(case):
    """Most generated integer ids become an existing row's id: random integers (and the
    coverage phase's fixed "0") would almost only ever reach the 404 branch. Ids that are not
    integers, and one integer in four, stay as generated."""
    pk = case.path_parameters.get("id") if case.path_parameters else None
    if isinstance(pk, str) and pk.isdigit():
        pk = int(pk)
    if not isinstance(pk, int) or isinstance(pk, bool) or pk % 4 == 3:
        return
    for prefix, model in MODEL_BY_PATH.items():
        if case.path.startswith(prefix):
            ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
            if ids:
                case.path_parameters["id"] = ids[pk % len(ids)]
            return


def identities_for(case) -> list[str]:
    """Staff get every request: they pass every permission check, so their requests reach
    the parsers, validators and database. A member's identity changes what runs only under
    /api/v1/loans/ (own loans, checkout); elsewhere a member is an anonymous reader or a 403.
    Anonymous clients get the random requests; the coverage phase's boundary values would
    meet the same 401, or the same read code as staff."""
    identities = ["staff"]
    if case.path.startswith("/api/v1/loans/"):
        identities.append("member")
    if case.meta is None or case.meta.phase.name != "coverage":
        identities.append("anonymous")
    return identities


def assert_no_server_error(case, identity, headers):
    response = case.call(base_url=BASE_URL, headers=headers)
    reproduce = f"as {identity}: {case.as_curl_command(headers, base_url=BASE_URL)}"[:3000]
    assert response.status_code < 500, f"{response.status_code} {reproduce}"
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type == "application/json", (response.status_code, content_type, reproduce)
        body = json.loads(response.content)
        assert isinstance(body, dict) and body.get("detail"), (body, reproduce)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_request_gets_a_server_error(case, fuzz_data):
    point_at_real_rows(case)
    for identity in identities_for(case):
        assert_no_server_error(case, identity, fuzz_data[identity])
