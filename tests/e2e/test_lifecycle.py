"""The library's life in the lab, in order (run with -x: each step needs the one before):
idempotent re-deploy, data created through the API, an upgrade that keeps the data and is
recorded, and a deploy of a revision that never becomes ready, which must fail and leave the
previous revision serving. Starts from `deploy/lab/lab up` (tests/e2e/run does it)."""

import os
import random
import uuid

import pytest
import requests
from conftest import (
    DOCKER,
    HOSTS,
    ROOT,
    get,
    post,
    publish,
    releases,
    sh,
    site_yml,
    wait_for,
)

LAB_1 = f"http://{HOSTS['lab-1']}"
# Shared between the ordered steps of this module.
story = {}


def revisions():
    """{host: revision its /version reports}, or what went wrong instead of the revision."""
    answers = {}
    for name, ip in HOSTS.items():
        try:
            answers[name] = get(f"http://{ip}/version").json()["revision"]
        except (requests.RequestException, ValueError, KeyError) as e:
            answers[name] = f"no revision: {e!r}"
    return answers


def isbn13():
    """A random valid ISBN-13 (the API checks the check digit; unique per run)."""
    digits = [9, 7, 8] + [random.randrange(10) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits + [check]))


def test_lab_serves_the_first_revision(first_version):
    assert revisions() == {name: first_version for name in HOSTS}


def test_second_site_yml_changes_nothing(first_version):
    rc, recap, _ = site_yml(first_version)
    assert rc == 0
    assert set(recap) == set(HOSTS), recap
    for name, counts in recap.items():
        assert counts["changed"] == 0, f"{name}: {counts}"
        assert counts["failed"] == 0 and counts["unreachable"] == 0, f"{name}: {counts}"


def test_loan_through_the_api(lab_secrets, admin_username):
    token = post(f"{LAB_1}/api/v1/auth/token/",
                 {"username": admin_username,
                  "password": lab_secrets["vault_library_admin_password"]})["token"]
    auth = {"Authorization": f"Token {token}"}
    author = post(f"{LAB_1}/api/v1/authors/", {"name": f"E2E Author {uuid.uuid4().hex[:8]}"},
                  auth)
    book = post(f"{LAB_1}/api/v1/books/",
                {"title": "Deployed Twice", "isbn": isbn13(), "author_ids": [author["id"]]}, auth)
    copy = post(f"{LAB_1}/api/v1/copies/",
                {"barcode": f"E2E-{uuid.uuid4().hex[:10]}", "book": book["id"],
                 "location": "Lab: shelf 1"}, auth)
    loan = post(f"{LAB_1}/api/v1/loans/checkout/", {"copy": copy["id"]}, auth)
    assert loan["copy"] == copy["id"] and loan["is_open"]
    story.update(auth=auth, loan=loan)


def test_upgrade_to_a_second_revision(first_version):
    second = f"{first_version[:12]}-e2e-upgrade"
    r = sh(ROOT / "tools/build-image", "library", second,
           env={**os.environ, "VERSION": "0.0.0-e2e"})
    assert r.returncode == 0, "tools/build-image failed"
    publish(second)
    rc, recap, _ = site_yml(second)
    assert rc == 0
    assert all(c["failed"] == 0 for c in recap.values()), recap
    assert revisions() == {name: second for name in HOSTS}
    story["second"] = second


def test_data_survives_the_upgrade():
    loan = story["loan"]
    r = get(f"{LAB_1}/api/v1/loans/{loan['id']}/", headers=story["auth"])
    assert r.status_code == 200, r.text
    assert r.json()["copy"] == loan["copy"] and r.json()["is_open"]


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_releases_log_records_both(name, first_version):
    log = releases(name)
    assert (first_version, "ok") in log, log
    assert log[-1] == (story["second"], "ok"), log


def test_never_ready_revision_fails_and_previous_keeps_serving():
    second = story["second"]
    broken = f"{second}-never-ready"
    r = sh(DOCKER, "build", "-q", "--build-arg", f"BASE=library:{second}", "-t",
           f"library:{broken}", ROOT / "tests/e2e/never-ready")
    assert r.returncode == 0
    publish(broken)
    # A shorter readiness budget than the default: this revision will never be ready.
    rc, recap, _ = site_yml(broken, "-e", "library_ready_timeout=90")
    assert rc != 0, "site.yml succeeded with an image that never becomes healthy"
    # One host at a time (serial: 1): the first host's failure stops the rollout, so the
    # broken release never reaches the second host.
    first, *others = HOSTS
    assert [name for name, c in recap.items() if c["failed"]] == [first], recap
    assert releases(first)[-1] == (broken, "failed")
    for name in others:
        assert releases(name)[-1] == (second, "ok")
    # The previous revision still answers, ready, on every host.
    assert revisions() == {name: second for name in HOSTS}
    for ip in HOSTS.values():
        wait_for(f"{ip} /readyz", lambda ip=ip: get(f"http://{ip}/readyz").status_code == 200,
                 seconds=30)
    r = get(f"{LAB_1}/api/v1/loans/{story['loan']['id']}/", headers=story["auth"])
    assert r.status_code == 200
