"""`make maintenance ENV=lab STATE=on|off`: the proxy answers the website and the API with 503
and Retry-After while the health endpoints keep telling the truth; off, everything serves."""

import pytest
from conftest import HOSTS, get, make_lab


def maintenance(state):
    return make_lab("maintenance", f"STATE={state}")


@pytest.fixture(scope="module")
def maintenance_on():
    assert maintenance("on").returncode == 0
    yield
    assert maintenance("off").returncode == 0


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_the_website_answers_503_with_a_page_and_retry_after(maintenance_on, name):
    r = get(f"http://{HOSTS[name]}/")
    assert (r.status_code, r.headers.get("Retry-After"), r.headers["Content-Type"].split(";")[0]) == (503, "120", "text/html")
    assert "Down for maintenance" in r.text


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_the_api_answers_503_with_json(maintenance_on, name):
    r = get(f"http://{HOSTS[name]}/api/v1/books/")
    assert (r.status_code, r.headers.get("Retry-After")) == (503, "120")
    assert r.json()["code"] == "maintenance"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/version"])
def test_the_health_endpoints_still_answer_from_web(maintenance_on, path):
    assert get(f"http://{HOSTS['lab-1']}{path}").status_code == 200


def test_off_everything_serves_again():
    assert maintenance("off").returncode == 0
    assert {name: get(f"http://{ip}/api/v1/books/").status_code for name, ip in HOSTS.items()} == dict.fromkeys(HOSTS, 200)


def test_a_state_other_than_on_or_off_is_refused_in_one_line():
    r = maintenance("maybe")
    assert r.returncode != 0
    assert "maintenance: STATE 'maybe' is not on or off" in r.stderr
