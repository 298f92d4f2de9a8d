"""Backups and point-in-time restore in the lab, end to end, through the operator's commands.

Loans are written, a backup is taken, more loans are written, the time is noted, more loans
are written; then lab-1's database volume is destroyed and `make restore AT=<that time>`
brings back exactly the loans written up to it. The figures (backup size, the data-loss
window, restore time) are printed. Both hosts restore (ENV=lab): lab-2's database still runs,
so its restore goes through the other path (newest WAL archived first)."""

import re
import subprocess
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests
from conftest import (
    HOSTS,
    ROOT,
    get,
    isbn13,
    make_env,
    post,
    release_records,
    ssh,
    wait_for,
)

LAB_1 = f"http://{HOSTS['lab-1']}"
DB = "sudo docker exec --user postgres library-db-1 psql -X -tA -d library -c"
story = {}


def make(*args, timeout=900):
    """make ARGS ENV=lab from the repository root; its output shown and returned."""
    command = ["make", "--no-print-directory", *args, "ENV=lab"]
    print("$ " + " ".join(command), flush=True)
    started = time.monotonic()
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False, env=make_env())
    r.seconds = time.monotonic() - started
    print(r.stdout[-6000:], r.stderr[-3000:], sep="\n", flush=True)
    return r


def utc_now():
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def checkout(auth, count):
    """COUNT new copies of a new book, each lent out and brought back (a borrower may hold only
    a few loans at once): the ids of the loans."""
    author = post(f"{LAB_1}/api/v1/authors/", {"name": f"Restore {uuid.uuid4().hex[:8]}"}, auth)
    book = post(f"{LAB_1}/api/v1/books/", {"title": "Kept or not", "isbn": isbn13(), "author_ids": [author["id"]]}, auth)
    loans = []
    for _ in range(count):
        copy = post(f"{LAB_1}/api/v1/copies/", {"barcode": f"R-{uuid.uuid4().hex[:10]}", "book": book["id"],
                                                "location": "Lab: restore shelf"}, auth)
        loan = post(f"{LAB_1}/api/v1/loans/checkout/", {"copy": copy["id"]}, auth)["id"]
        post(f"{LAB_1}/api/v1/loans/{loan}/return/", {}, auth)
        loans.append(loan)
    return loans


def loan_found(auth, loan):
    r = get(f"{LAB_1}/api/v1/loans/{loan}/", headers=auth)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def db_value(sql):
    r = ssh("lab-1", f'{DB} "{sql}"')
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_the_first_deploy_marked_a_restore_point_before_its_migrations(name):
    first = next(record for record in release_records(name) if record["result"] == "ok")
    point = first.get("restore_point", {})
    assert re.fullmatch(r"before-[0-9a-f]{12}-\d{8}T\d{6}Z", point.get("name", "")), first
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", point.get("time", "")), first


def test_backup_now_names_each_hosts_newest_backup(lab_secrets, admin_username):
    token = post(f"{LAB_1}/api/v1/auth/token/", {"username": admin_username,
                                                 "password": lab_secrets["vault_library_admin_password"]})["token"]
    story["auth"] = auth = {"Authorization": f"Token {token}"}
    story["before_backup"] = checkout(auth, 3)
    r = make("backup", "TYPE=full")
    assert r.returncode == 0, r.stderr[-2000:]
    for name in HOSTS:
        found = re.search(rf"{name}: (\d+) backups; newest (\d{{8}}-\d{{6}}F) \(full, ([\d.]+) MiB stored", r.stdout)
        assert found, f"{name} not in make backup's output"
        story.setdefault("sizes", {})[name] = float(found.group(3))
        story.setdefault("labels", {})[name] = found.group(2)
    print(f"FIGURE full backup: {r.seconds:.1f} s for both hosts; stored {story['sizes']} MiB", flush=True)


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_the_newest_backups_time_is_a_metric_on_the_host(name):
    r = ssh(name, "curl -s http://127.0.0.1:9180/backup/metrics; echo; date +%s")
    assert r.returncode == 0, r.stderr
    found = re.search(r"^library_backup_last_success_timestamp_seconds (\d+)$", r.stdout, re.MULTILINE)
    assert found, r.stdout
    assert 0 <= int(r.stdout.split()[-1]) - int(found.group(1)) < 600


def test_status_shows_the_age_of_each_hosts_newest_backup():
    r = make("status")
    assert r.returncode == 0, r.stderr[-2000:]
    for name in HOSTS:
        row = next(line for line in r.stdout.splitlines() if line.split()[:1] == [name])
        assert re.search(r" (\d+s|[1-9]m) ago ", row), row


def test_restore_without_confirm_says_what_it_would_do_and_changes_nothing():
    before = release_records("lab-1")
    r = make("restore", f"AT={utc_now()}")
    assert r.returncode == 0, r.stderr[-2000:]
    for name in HOSTS:
        assert f"{name}: would (CONFIRM=yes to do it): maintenance page on" in r.stdout
    assert release_records("lab-1") == before
    assert get(f"{LAB_1}/readyz").status_code == 200


def test_a_restore_to_a_time_before_the_oldest_backup_is_refused_naming_it():
    r = make("restore", "CONFIRM=yes", "AT=2001-01-01 00:00:00")
    assert r.returncode != 0
    assert "AT 2001-01-01 00:00:00 is before the oldest backup ended" in r.stdout + r.stderr
    assert get(f"{LAB_1}/readyz").status_code == 200


def test_writes_reach_the_repository_within_the_archive_timeout():
    auth = story["auth"]
    story["kept"] = checkout(auth, 3)
    time.sleep(1.5)
    story["at"] = utc_now()  # whole seconds: the loans above committed before it
    time.sleep(1.5)
    story["lost"] = checkout(auth, 3)
    written = time.monotonic()
    wal = db_value("SELECT pg_walfile_name(pg_current_wal_lsn())")
    # The data-loss window: how long the last write waits before its WAL is off the host.
    wait_for(f"WAL {wal} archived", lambda: db_value("SELECT last_archived_wal FROM pg_stat_archiver") >= wal,
             seconds=150, interval=1)
    story["rpo"] = time.monotonic() - written
    print(f"FIGURE data-loss window (write to WAL archived): {story['rpo']:.1f} s (archive_timeout 60 s)", flush=True)
    assert story["rpo"] <= 300


def test_lab_1_loses_its_database_volume():
    ssh("lab-1", "sudo docker rm -f library-db-1; sudo docker volume rm library_db-data")
    assert ssh("lab-1", "sudo docker volume inspect library_db-data").returncode != 0
    # With no ready web behind it, the proxy holds a request 10 s (lb_try_duration), then 503.
    wait_for("lab-1 not ready", lambda: requests.get(f"{LAB_1}/readyz", timeout=30).status_code >= 500, seconds=90)


def test_restore_to_the_noted_time_brings_back_exactly_the_loans_written_before_it():
    r = make("restore", "CONFIRM=yes", f"AT={story['at']}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    took = re.search(r"lab-1: database restored from=\S+ in ([\d.]+) s", r.stdout)
    assert took, "no restore time in the output"
    print(f"FIGURE restore: lab-1 {took.group(1)} s (maintenance on to off), make restore {r.seconds:.1f} s "
          f"for both hosts; backup {story['sizes']['lab-1']} MiB; data-loss window {story['rpo']:.1f} s", flush=True)
    auth = story["auth"]
    assert get(f"{LAB_1}/readyz").status_code == 200
    assert {loan: loan_found(auth, loan) for loan in story["before_backup"] + story["kept"]} == dict.fromkeys(
        story["before_backup"] + story["kept"], True)
    assert {loan: loan_found(auth, loan) for loan in story["lost"]} == dict.fromkeys(story["lost"], False)


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_the_restore_is_recorded_and_the_maintenance_page_is_off(name):
    at = story["at"].replace(" ", "T")
    last = release_records(name)[-1]
    assert (last["kind"], last["result"], last.get("restored_from")) == ("restore", "ok", f"{at}Z"), last
    r = get(f"http://{HOSTS[name]}/")
    assert r.status_code == 200, r.status_code


def test_restore_of_one_host_to_a_backup_brings_back_the_database_as_that_backup_left_it():
    """HOST=lab-1 BACKUP=<its label>: the full backup taken after the first loans, nothing written
    since; lab-2 is left alone."""
    lab_2_before = release_records("lab-2")
    label = story["labels"]["lab-1"]
    r = make("restore", "CONFIRM=yes", "HOST=lab-1", f"BACKUP={label}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    auth = story["auth"]
    assert {loan: loan_found(auth, loan) for loan in story["before_backup"]} == dict.fromkeys(story["before_backup"], True)
    assert {loan: loan_found(auth, loan) for loan in story["kept"]} == dict.fromkeys(story["kept"], False)
    last = release_records("lab-1")[-1]
    assert (last["kind"], last.get("restored_from")) == ("restore", label), last
    assert release_records("lab-2") == lab_2_before


def test_a_host_that_is_not_in_the_inventory_is_refused_naming_the_hosts():
    r = make("restore", "HOST=lab-9")
    assert r.returncode != 0
    assert "HOST (library_restore_host) 'lab-9' is not a library host of this inventory (lab-1, lab-2)" in r.stdout


def test_writes_go_on_after_the_restore():
    assert len(checkout(story["auth"], 1)) == 1
