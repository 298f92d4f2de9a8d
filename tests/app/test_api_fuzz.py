"""Property-based requests against every operation of the app's own OpenAPI schema, judged
by every check schemathesis has.

Schemathesis reads the schema /api/schema/ serves and generates requests for each operation:
its coverage phase walks boundary and wrong-type values field by field, its fuzzing phase
draws random valid and invalid requests. They go through the real WSGI application (every
middleware, the real error handlers) to the test PostgreSQL. Every response must pass all of
schemathesis's checks: no 5xx; status code, content type, headers and body as the schema
documents them; a schema-valid request accepted and a schema-violating one refused; an
operation that declares credentials refusing a request without them (or with bad ones). A
stateful run follows the links schemathesis infers (create, then read, change, delete) for
the use-after-free and resource-availability checks. Seeded (derandomize): CI sends the same
requests on every run. Hand-picked cases live in test_api_bad_input.

The database is transactional (autocommit, as in production): inside a test transaction,
one statement PostgreSQL refuses would poison every later request.
"""

import json
import re

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi import checks as openapi_checks

from catalog.api import ISBN_INPUT
from catalog.isbn import isbn10_check_digit, isbn13_check_digit, normalize_isbn
from catalog.models import Author, Book
from circulation.models import Copy, Loan
from conftest import create_book
from library.wsgi import application

# Random requests per operation (the coverage phase adds its own, a few dozen per operation):
# with each identity counted, about 2,800 requests, plus the stateful scenarios below. The
# module takes about 1.5 min of CPU (90 s to 5 min on two cores shared with other work).
EXAMPLES_PER_OPERATION = 25
MAX_ENUM_VALUES = 4
# Stateful scenarios, each a sequence of up to STATEFUL_STEPS linked calls.
STATEFUL_SCENARIOS = 30
STATEFUL_STEPS = 10
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


@st.composite
def isbns(draw):
    """The schema's "format: isbn": valid ISBN-13s and ISBN-10s, some hyphenated."""
    if draw(st.booleans()):
        first12 = draw(st.sampled_from(["978", "979"])) + draw(st.from_regex(r"\A[0-9]{9}\Z"))
        isbn = first12 + isbn13_check_digit(first12)
    else:
        first9 = draw(st.from_regex(r"\A[0-9]{9}\Z"))
        isbn = first9 + isbn10_check_digit(first9)
    if draw(st.booleans()):
        isbn = "-".join([isbn[:-1], isbn[-1]])
    return isbn


schemathesis.openapi.format("isbn", isbns())


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


def trim_request_enums(document: dict) -> dict:
    """trim_enums for what requests send only: responses are still judged against every
    value (a stored book's language may be any of them). Request components refer to trimmed
    copies of the enum components they share with responses."""
    schemas = document["components"]["schemas"]
    shared = {name: f"{name}Sent" for name, component in schemas.items()
              if len(component.get("enum", [])) > MAX_ENUM_VALUES}
    for name, copy in shared.items():
        schemas[copy] = trim_enums(json.loads(json.dumps(schemas[name])))
    refs = {f"#/components/schemas/{n}": f"#/components/schemas/{c}" for n, c in shared.items()}

    def retarget(node):
        if isinstance(node, dict):
            if node.get("$ref") in refs:
                node["$ref"] = refs[node["$ref"]]
            for value in node.values():
                retarget(value)
        elif isinstance(node, list):
            for value in node:
                retarget(value)

    for name in [n for n in schemas if n.endswith("Request")]:
        retarget(trim_enums(schemas[name]))
    for operation in (op for item in document["paths"].values() for op in item.values()):
        retarget(trim_enums(operation.get("parameters", [])))
        retarget(trim_enums(operation.get("requestBody", {})))
    return document


schema = schemathesis.openapi.from_dict(trim_request_enums(openapi_document()))
schema.app = application  # in-process through the WSGI entry point gunicorn serves


def test_the_fuzzed_schema_is_the_served_one(db, client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


@pytest.fixture
def fuzz_data(transactional_db, django_user_model):
    # Superuser too: whatever permission scheme guards writes, staff requests reach the
    # parsers, validators and database behind it.
    staff = django_user_model.objects.create_user("fuzz-staff", is_staff=True, is_superuser=True)
    member = django_user_model.objects.create_user("fuzz-member")
    other = django_user_model.objects.create_user("fuzz-other")
    seed_catalogue(staff, member, other)
    return {
        "staff": {"Authorization": f"Token {Token.objects.create(user=staff).key}"},
        "member": {"Authorization": f"Token {Token.objects.create(user=member).key}"},
        "anonymous": {},
    }


def seed_catalogue(staff, member, other):
    """Three books with two copies each; one copy lent to each user."""
    for title in ("Middlemarch", "Bleak House", "Dracula"):
        create_book(title, authors=(f"Author of {title}",), copies=2)
    first, second, third = Copy.objects.order_by("barcode")[:3]
    Loan.objects.create(copy=first, borrower=member)
    Loan.objects.create(copy=second, borrower=other)
    Loan.objects.create(copy=third, borrower=staff)


def reseed_catalogue():
    """Back to fuzz_data's rows: a stateful scenario must meet the same data when Hypothesis
    replays it, or the calls it can make differ (FlakyStrategyDefinition)."""
    for model in (Loan, Copy, Book, Author):
        model.objects.all().delete()
    users = get_user_model().objects.in_bulk(field_name="username")
    seed_catalogue(users["fuzz-staff"], users["fuzz-member"], users["fuzz-other"])


def point_at_real_rows(case):
    """Most generated integer ids become an existing row's id: random integers (and the
    coverage phase's fixed "1") would almost only ever reach the 404 branch. Ids that are not
    integers, and one integer in four, stay as generated."""
    pk = case.path_parameters.get("id") if case.path_parameters else None
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


# Refusals that depend on stored rows, which no schema can express: a unique value already
# taken, an id naming no row (or no active user), a username and password that match no
# user. The field is named, as for any 400.
STATE_REFUSALS = re.compile(
    r"already exists|does not exist|no longer exists|Unable to log in with provided credentials"
)


def positive_data_acceptance(ctx, response, case):
    """Schemathesis's check (a schema-valid request is not refused), except a 400 whose every
    message is a refusal that depends on stored rows, or that refuses an ISBN whose check
    digit is wrong: schemathesis cannot know what "format: isbn" means when it derives
    values from the pattern, so such a request only looked schema-valid."""
    if response.status_code == 400:
        body = json.loads(response.content)
        if refused_for_stored_rows(body) or refused_a_bad_isbn(body, case):
            return None
    return openapi_checks.positive_data_acceptance(ctx, response, case)


def refused_a_bad_isbn(body, case) -> bool:
    sent = (case.body if isinstance(case.body, dict) else {}).get("isbn")
    sent = sent if sent is not None else (case.query or {}).get("isbn")
    if set(body.get("errors") or {}) != {"isbn"} or not isinstance(sent, str):
        return False
    if not ISBN_INPUT.fullmatch(sent):  # the pattern's part, which schemathesis judges itself
        return False
    try:
        normalize_isbn(sent)
    except ValidationError:
        return True
    return False


def refused_for_stored_rows(body) -> bool:
    messages = list(flatten(body.get("errors") or {}))
    return bool(messages) and all(STATE_REFUSALS.search(m) for m in messages)


def flatten(errors):
    if isinstance(errors, str):
        yield errors
    elif isinstance(errors, dict):
        for value in errors.values():
            yield from flatten(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from flatten(value)


# Every check schemathesis registers, with the one exception positive_data_acceptance above
# makes. A failure names the request as a curl command.
CHECKS = {"excluded_checks": [openapi_checks.positive_data_acceptance],
          "additional_checks": [positive_data_acceptance]}


def assert_conforms(case, headers):
    case.call_and_validate(base_url=BASE_URL, headers=headers, **CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_response_conforms_to_the_schema(case, fuzz_data):
    point_at_real_rows(case)
    for identity in identities_for(case):
        assert_conforms(case, fuzz_data[identity])


class Workflow(schema.as_state_machine()):
    """Sequences of calls along the links schemathesis infers from the schema (a created
    book's id into its read, change, delete; a checkout's loan into its return), as staff:
    use_after_free (a deleted record must be gone) and ensure_resource_availability (a
    created one must be there) judge each step against the ones before it."""

    headers: dict = {}

    def setup(self):
        reseed_catalogue()

    def get_call_kwargs(self, case):
        return {"base_url": BASE_URL, "headers": self.headers}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, transport_kwargs=kwargs or None, headers=self.headers,
                               recorder=self.recorder, **CHECKS)


def test_workflows_conform_to_the_schema(fuzz_data):
    Workflow.headers = fuzz_data["staff"]
    Workflow.run(settings=settings(FUZZ_SETTINGS, max_examples=STATEFUL_SCENARIOS,
                                   stateful_step_count=STATEFUL_STEPS))
