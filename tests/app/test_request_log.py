import json
import logging

import pytest

pytestmark = pytest.mark.django_db


def request_records(caplog):
    return [r for r in caplog.records if r.name == "library.request"]


def test_request_id_is_generated_and_echoed(client, caplog):
    caplog.set_level(logging.INFO, logger="library.request")
    response = client.get("/api/v1/books/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [record] = request_records(caplog)
    assert record.request_id == request_id
    assert (record.method, record.path, record.status) == ("GET", "/api/v1/books/", 200)
    assert record.duration_ms >= 0


def test_request_id_from_the_proxy_is_kept(client, caplog):
    caplog.set_level(logging.INFO, logger="library.request")
    response = client.get("/", HTTP_X_REQUEST_ID="proxy-abc.123")
    assert response["X-Request-ID"] == "proxy-abc.123"
    assert request_records(caplog)[0].request_id == "proxy-abc.123"


@pytest.mark.parametrize("bad", ["has space", "x" * 200, "new\nline", "quote\""])
def test_unsafe_request_ids_are_replaced(client, bad):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"] != bad


def test_errors_are_logged_as_errors_and_4xx_as_info(client, caplog):
    caplog.set_level(logging.DEBUG, logger="library.request")
    client.get("/api/v1/books/987654/")
    client.get("/healthz")
    levels = {r.path: r.levelname for r in request_records(caplog)}
    assert levels == {"/api/v1/books/987654/": "INFO", "/healthz": "DEBUG"}


def test_log_lines_are_single_line_json(client, caplog):
    caplog.set_level(logging.INFO, logger="library.request")
    client.get("/api/v1/books/?search=x", HTTP_X_REQUEST_ID="rid-1")
    [record] = request_records(caplog)
    [handler] = logging.getLogger().handlers[:1]
    line = handler.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "GET" and entry["path"] == "/api/v1/books/"
    assert entry["status"] == 200 and entry["request_id"] == "rid-1"
    assert entry["level"] == "INFO" and "duration_ms" in entry and "time" in entry


def test_signed_in_user_is_logged(as_user, member, caplog):
    caplog.set_level(logging.INFO, logger="library.request")
    as_user(member).get("/api/v1/loans/")
    assert request_records(caplog)[0].user_id == member.pk
