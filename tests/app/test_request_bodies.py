"""Request bodies (core.request_body): one over LIBRARY_MAX_BODY_BYTES is a 413 before any of
it is read, multipart is a 415 on every path, and nothing is ever written to a temporary
upload file. The sign-in endpoints read the bodies of anonymous clients: a 20 MB multipart
body used to be spooled to the container's tmpfs by each of them."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.http import multipartparser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

from conftest import FORM

pytestmark = pytest.mark.django_db

SIGN_IN = ["/api/v1/auth/token/", "/api/auth/login/", "/admin/login/"]
MIB = 1024 * 1024
CREDENTIALS = {"username": "mia", "password": "pw-mia-test"}


class CountingPayload(FakePayload):
    """The body as the server hands it to the app (wsgi.input), counting what is read."""

    def __init__(self, content):
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size=-1, /):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


class ChunkedInput(io.BytesIO):
    """A chunked body as gunicorn hands it on: no Content-Length, read until it ends."""

    def read(self, size=-1, /):
        data = super().read(size)
        self.bytes_read = getattr(self, "bytes_read", 0) + len(data)
        return data


@pytest.fixture
def uploads_spooled(monkeypatch, settings, tmp_path):
    """Every temporary upload file Django makes, and every multipart body it parses; upload
    files go to tmp_path, which must stay empty."""
    made, parsed = [], []
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    original_file = TemporaryUploadedFile.__init__
    original_parse = multipartparser.MultiPartParser.parse

    def recording_file(self, *args, **kwargs):
        made.append(args)
        original_file(self, *args, **kwargs)

    def recording_parse(self):
        parsed.append(self)
        return original_parse(self)

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", recording_file)
    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", recording_parse)
    yield made, parsed
    assert list(tmp_path.iterdir()) == []


def multipart(size: int) -> bytes:
    fields = {**CREDENTIALS, "file": SimpleUploadedFile("big.bin", b"x" * size)}
    return encode_multipart(BOUNDARY, fields)


def post(client, url, body: bytes, content_type: str, **extra):
    payload = CountingPayload(body)
    response = client.generic("POST", url, body, content_type=content_type,
                              **{"wsgi.input": payload}, **extra)
    return response, payload


@pytest.mark.parametrize("url", SIGN_IN)
def test_a_20_mb_multipart_sign_in_is_a_413_and_nothing_is_read_or_written(client, member, url,
                                                                           uploads_spooled):
    response, payload = post(client, url, multipart(20 * MIB), MULTIPART_CONTENT)
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is larger than 1048576 bytes.",
                               "code": "body_too_large"}
    assert payload.bytes_read == 0
    assert uploads_spooled == ([], [])


@pytest.mark.parametrize("content_type", ["application/json", FORM])
def test_a_body_over_the_limit_of_any_type_is_a_413(client, content_type, uploads_spooled):
    body = b'{"username": "' + b"x" * (2 * MIB) + b'"}'
    response, payload = post(client, "/api/v1/auth/token/", body, content_type)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert payload.bytes_read == 0


def test_the_limit_is_the_setting(client, member, settings):
    settings.LIBRARY_MAX_BODY_BYTES = 2048
    body = json.dumps({**CREDENTIALS, "pad": "x" * 1900}).encode()
    at_limit = body + b" " * (2048 - len(body))
    assert post(client, "/api/v1/auth/token/", at_limit, "application/json")[0].status_code == 200
    over, payload = post(client, "/api/v1/auth/token/", at_limit + b" ", "application/json")
    assert over.status_code == 413
    assert over.json() == {"detail": "The request body is larger than 2048 bytes.",
                           "code": "body_too_large"}
    assert payload.bytes_read == 0


@pytest.mark.parametrize("url", [*SIGN_IN, "/api/v1/books/", "/admin/catalog/author/add/", "/"])
def test_multipart_is_a_415_naming_it_everywhere(client, staff, url, uploads_spooled):
    client.force_login(staff)
    response, payload = post(client, url, multipart(10), MULTIPART_CONTENT)
    assert response.status_code == 415, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": 'Unsupported media type "multipart/form-data" in request: this service takes '
                  "no uploads (send JSON, or a form as application/x-www-form-urlencoded).",
        "code": "unsupported_media_type",
    }
    assert payload.bytes_read == 0
    assert uploads_spooled == ([], [])


def test_drf_parses_no_multipart():
    from rest_framework.settings import api_settings

    from core.signin import ObtainTokenView

    for parsers in (api_settings.DEFAULT_PARSER_CLASSES, ObtainTokenView.parser_classes):
        assert all(parser.media_type != "multipart/form-data" for parser in parsers)


def chunked(client, url, body: bytes, content_type="application/json"):
    stream = ChunkedInput(body)
    response = client.generic("POST", url, CONTENT_TYPE=content_type, CONTENT_LENGTH="",
                              HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": stream})
    return response, stream


def test_a_chunked_body_over_the_limit_is_a_413_read_no_further_than_the_limit(client, member):
    response, stream = chunked(client, "/api/v1/auth/token/", b" " * (20 * MIB))
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert stream.bytes_read == MIB + 1


def test_a_chunked_body_within_the_limit_is_read(client, member):
    response, _ = chunked(client, "/api/v1/auth/token/", json.dumps(CREDENTIALS).encode())
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}


def test_a_json_sign_in_still_works(api, member):
    response = api.post("/api/v1/auth/token/", CREDENTIALS, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"token"}


@pytest.mark.parametrize(("url", "then"), [("/admin/login/?next=/admin/", "/admin/"),
                                           ("/api/auth/login/", "/")])
def test_urlencoded_sign_in_forms_still_work(client, django_user_model, url, then):
    django_user_model.objects.create_superuser("root", "root@example.invalid", "pw-root-test")
    response = client.post(url, {"username": "root", "password": "pw-root-test"})
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == then
    assert client.get("/admin/").status_code == 200


def test_the_browsable_api_forms_post_urlencoded(client, staff):
    client.force_login(staff)
    page = client.get("/api/v1/authors/", HTTP_ACCEPT="text/html").content.decode()
    assert 'enctype="application/x-www-form-urlencoded"' in page
    assert "multipart/form-data" not in page
