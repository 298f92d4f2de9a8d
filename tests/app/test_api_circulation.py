from datetime import timedelta

import pytest
from django.utils import timezone

from circulation.models import Copy, Loan

pytestmark = pytest.mark.django_db


def checkout(client, copy, **extra):
    return client.post("/api/v1/loans/checkout/", {"copy": copy.pk, **extra}, format="json")


def test_member_checks_out_and_staff_record_the_return(as_user, member, staff, copy):
    client = as_user(member)
    response = checkout(client, copy)
    assert response.status_code == 201, response.content
    loan = response.json()
    assert loan["borrower"] == member.pk and loan["barcode"] == copy.barcode
    assert loan["is_open"] is True and loan["returned_at"] is None
    assert client.get(f"/api/v1/copies/{copy.pk}/").json()["available"] is False

    returned = as_user(staff).post(f"/api/v1/loans/{loan['id']}/return/")
    assert returned.status_code == 200, returned.content
    assert returned.json()["is_open"] is False and returned.json()["returned_at"]
    assert client.get(f"/api/v1/copies/{copy.pk}/").json()["available"] is True


def test_due_date_is_the_loan_period(as_user, member, copy, settings):
    loan = checkout(as_user(member), copy).json()
    due = Loan.objects.get(pk=loan["id"]).due_at
    expected = timezone.now() + timedelta(days=settings.LOAN_PERIOD_DAYS)
    assert abs((due - expected).total_seconds()) < 60


def test_a_copy_on_loan_cannot_be_checked_out_again(as_user, member, other_member, copy):
    assert checkout(as_user(member), copy).status_code == 201
    response = checkout(as_user(other_member), copy)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "already on loan" in response.json()["detail"]
    assert Loan.objects.filter(copy=copy).count() == 1


@pytest.mark.parametrize("status", [Copy.Status.REFERENCE, Copy.Status.IN_REPAIR, Copy.Status.LOST])
def test_copies_that_do_not_circulate_cannot_be_lent(as_user, member, copy, status):
    Copy.objects.filter(pk=copy.pk).update(status=status)
    response = checkout(as_user(member), copy)
    assert response.status_code == 409
    assert "cannot be lent" in response.json()["detail"]


def test_returning_twice_is_a_conflict(as_user, staff, copy):
    client = as_user(staff)
    loan = checkout(client, copy).json()
    assert client.post(f"/api/v1/loans/{loan['id']}/return/").status_code == 200
    assert client.post(f"/api/v1/loans/{loan['id']}/return/").status_code == 409


def test_loans_require_sign_in(api, copy):
    assert api.get("/api/v1/loans/").status_code == 401
    assert checkout(api, copy).status_code == 401


def test_members_see_only_their_own_loans(as_user, api, member, other_member, book):
    first, second = book.copies.order_by("barcode")
    mine = Loan.objects.create(copy=first, borrower=member)
    theirs = Loan.objects.create(copy=second, borrower=other_member)
    client = as_user(member)
    assert [loan["id"] for loan in client.get("/api/v1/loans/").json()["results"]] == [mine.pk]
    assert client.get(f"/api/v1/loans/{theirs.pk}/").status_code == 404


def test_only_staff_record_a_return_not_even_the_borrower(as_user, member, other_member, book):
    first, second = book.copies.order_by("barcode")
    mine = Loan.objects.create(copy=first, borrower=member)
    theirs = Loan.objects.create(copy=second, borrower=other_member)
    client = as_user(member)
    # The same answer for an own loan, someone else's and none: nothing to learn from it.
    for loan_id in (mine.pk, theirs.pk, 987654321):
        response = client.post(f"/api/v1/loans/{loan_id}/return/")
        assert response.status_code == 403, response.content
        assert response.json() == {"detail": "Only staff record a return.",
                                   "code": "permission_denied"}
    assert not Loan.objects.filter(returned_at__isnull=False).exists()


def test_returning_needs_sign_in(api, member, copy):
    loan = Loan.objects.create(copy=copy, borrower=member)
    assert api.post(f"/api/v1/loans/{loan.pk}/return/").status_code == 401


def test_staff_see_all_loans_and_lend_to_anyone(as_user, staff, member, other_member, book):
    first, second = book.copies.order_by("barcode")
    Loan.objects.create(copy=first, borrower=other_member)
    client = as_user(staff)
    response = checkout(client, second, borrower=member.pk)
    assert response.status_code == 201, response.content
    assert response.json()["borrower"] == member.pk
    assert client.get("/api/v1/loans/").json()["count"] == 2
    assert client.get(f"/api/v1/loans/?borrower={member.pk}").json()["count"] == 1
    assert client.get("/api/v1/loans/?open=true").json()["count"] == 2
    loan = Loan.objects.get(borrower=other_member)
    assert client.post(f"/api/v1/loans/{loan.pk}/return/").status_code == 200


def test_members_cannot_lend_to_someone_else(as_user, member, other_member, copy):
    response = checkout(as_user(member), copy, borrower=other_member.pk)
    assert response.status_code == 403
    assert "Only staff" in response.json()["detail"]
    assert not Loan.objects.exists()


def test_members_cannot_probe_which_user_ids_exist(as_user, member, other_member, copy):
    """Naming an existing other user and a missing one must look the same to a member."""
    client = as_user(member)
    for borrower in (other_member.pk, 987654321):
        response = checkout(client, copy, borrower=borrower)
        assert response.status_code == 403, response.content
        filtered = client.get(f"/api/v1/loans/?borrower={borrower}")
        assert filtered.status_code == 200 and filtered.json()["count"] == 0
    assert client.get(f"/api/v1/loans/?borrower={member.pk}").status_code == 200
    assert checkout(client, copy, borrower=member.pk).status_code == 201


def test_loans_are_read_only_apart_from_the_actions(as_user, staff, copy):
    client = as_user(staff)
    assert client.post("/api/v1/loans/", {"copy": copy.pk}).status_code == 405
    loan = checkout(client, copy).json()
    assert client.delete(f"/api/v1/loans/{loan['id']}/").status_code == 405


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"copy": 987654321}, "copy"),  # a copy that does not exist
        ({"copy": "abc"}, "copy"),
        ({"copy": 10**30}, "copy"),
        ({"copy": None}, "copy"),
        ({}, "copy"),
        ({"copy": [1]}, "copy"),
    ],
)
def test_bad_checkout_input_is_a_400_naming_the_field(as_user, member, db, payload, field):
    response = as_user(member).post("/api/v1/loans/checkout/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_staff_manage_copies_and_members_cannot(as_user, staff, member, book):
    payload = {"barcode": "NEW-0001", "book": book.pk, "location": "Annex", "status": "in_repair"}
    assert as_user(member).post("/api/v1/copies/", payload).status_code == 403
    response = as_user(staff).post("/api/v1/copies/", payload)
    assert response.status_code == 201, response.content
    assert response.json()["available"] is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "borrowed"}, "status"),
        ({"barcode": "x" * 33}, "barcode"),
        ({"book": 987654321}, "book"),
        ({"location": ""}, "location"),
    ],
)
def test_bad_copy_input_is_a_400_naming_the_field(as_user, staff, book, overrides, field):
    payload = {"barcode": "NEW-0002", "book": book.pk, "location": "Annex", **overrides}
    response = as_user(staff).post("/api/v1/copies/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_duplicate_barcode_is_refused(as_user, staff, copy):
    payload = {"barcode": copy.barcode, "book": copy.book_id, "location": "Annex"}
    response = as_user(staff).post("/api/v1/copies/", payload)
    assert response.status_code == 400
    assert "barcode" in response.json()["errors"]


def test_copy_filters(api, as_user, member, book):
    first, _ = book.copies.order_by("barcode")
    Loan.objects.create(copy=first, borrower=member)
    assert api.get("/api/v1/copies/?available=true").json()["count"] == 1
    assert api.get("/api/v1/copies/?available=false").json()["results"][0]["due_at"]
    assert api.get("/api/v1/copies/?status=nonsense").status_code == 400


def test_the_database_constraint_backs_up_the_python_check(as_user, member, other_member,
                                                           copy, monkeypatch):
    from django.db.models import QuerySet

    Loan.objects.create(copy=copy, borrower=other_member)
    # Blind the "already on loan?" query, as a request racing in between would be.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    response = checkout(as_user(member), copy)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Loan.objects.filter(copy=copy).count() == 1


def test_token_authentication(api, member):
    response = api.post("/api/v1/auth/token/", {"username": "mia", "password": "pw-mia-test"})
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert api.get("/api/v1/loans/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    bad = api.get("/api/v1/loans/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.status_code == 401
    assert bad.json()["code"] == "authentication_failed"


def test_session_authentication_enforces_csrf(member):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.login(username="mia", password="pw-mia-test")
    assert client.get("/api/v1/loans/").status_code == 200
    response = client.post("/api/v1/loans/checkout/", {"copy": 1}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
