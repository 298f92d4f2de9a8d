"""A read request writes nothing to PostgreSQL: throttle counters and sessions live in the cache
server, so reads scale with the database's read capacity, not its write path.

Recorded at the database connection itself: every statement Django sends, and every commit.
Transactional tests (real commits), so a write hidden in an atomic block is seen as one; the
first test proves the recorder sees writes when there are some."""

import re
from contextlib import contextmanager

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from conftest import create_book

pytestmark = pytest.mark.django_db(transaction=True)

WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|ALTER|DROP|COPY)\b|\bFOR (NO KEY )?UPDATE\b",
    re.IGNORECASE,
)


class Recorder:
    def __init__(self):
        self.statements: list[str] = []
        self.commits = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql)
        return execute(sql, params, many, context)

    @property
    def writes(self) -> list[str]:
        return [sql for sql in self.statements if WRITE.search(sql)]


@pytest.fixture
def recording(monkeypatch):
    """A context manager: statements and commits on the app's connection inside it."""
    wrapper_class = type(connection._connections[connection._alias])  # the backend in use
    commit = wrapper_class.commit

    @contextmanager
    def record():
        recorder = Recorder()

        def counted_commit(self):
            recorder.commits += 1
            return commit(self)

        monkeypatch.setattr(wrapper_class, "commit", counted_commit)
        try:
            with connection.execute_wrapper(recorder):
                yield recorder
        finally:
            monkeypatch.setattr(wrapper_class, "commit", commit)

    return record


@pytest.fixture
def book():
    return create_book("Persuasion", authors=("Jane Austen",), copies=2)


def assert_reads_only(recorder):
    assert recorder.statements, "no query recorded: the recorder is not attached"
    assert recorder.writes == [], recorder.writes
    assert recorder.commits == 0


def test_the_recorder_sees_a_write_and_its_commit(client, member, recording):
    """Signing in writes (last_login, the session row): the recorder must see it."""
    with recording() as recorder:
        response = client.post("/api/auth/login/", {"username": "mia", "password": "pw-mia-test"})
    assert response.status_code == 302
    kinds = {sql.split()[0].upper() for sql in recorder.writes}
    assert {"UPDATE", "INSERT"} <= kinds, recorder.statements
    assert recorder.commits >= 1


def anonymous_reads(book):
    return ["/api/v1/books/", f"/api/v1/books/{book.pk}/", "/api/v1/authors/", "/api/v1/copies/",
            "/", "/?q=austen", f"/books/{book.pk}/"]


def test_anonymous_api_and_page_reads_write_nothing(client, book, recording):
    for url in anonymous_reads(book):
        with recording() as recorder:
            response = client.get(url)
        assert response.status_code == 200, url
        assert_reads_only(recorder)


def test_signed_in_reads_write_nothing(client, member, book, recording):
    client.force_login(member)  # a write, before the recording
    for url in ["/", f"/books/{book.pk}/", "/api/v1/books/", "/api/v1/loans/"]:
        with recording() as recorder:
            response = client.get(url)
        assert response.status_code == 200, url
        assert response.wsgi_request.user == member, url
        assert_reads_only(recorder)


def test_token_reads_write_nothing(api, member, book, recording):
    token = Token.objects.create(user=member)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for url in ["/api/v1/books/", "/api/v1/loans/"]:
        with recording() as recorder:
            response = api.get(url)
        assert response.status_code == 200, url
        assert_reads_only(recorder)
