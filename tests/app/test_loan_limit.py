"""A borrower holds at most LIBRARY_MAX_OPEN_LOANS open loans; the service says so in its own
terms (circulation.errors) and the API answers 409."""


import pytest

from circulation import errors, services
from circulation.models import Loan
from conftest import create_book, race_checkouts

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit_of_two(settings):
    settings.LIBRARY_MAX_OPEN_LOANS = 2


def checkout(client, copy, **extra):
    return client.post("/api/v1/loans/checkout/", {"copy": copy.pk, **extra}, format="json")


def test_checkout_beyond_the_limit_is_a_409_saying_why(as_user, member, staff, limit_of_two):
    copies = list(create_book("Shelf", copies=3).copies.order_by("barcode"))
    client = as_user(member)
    assert [checkout(client, c).status_code for c in copies[:2]] == [201, 201]

    refused = checkout(client, copies[2])
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["code"] == "loan_limit_reached"
    assert "mia already has 2 open loans" in body["detail"]
    assert "the most allowed is 2" in body["detail"]
    assert Loan.objects.filter(borrower=member).count() == 2

    # A return frees a place.
    first = Loan.objects.filter(borrower=member).order_by("pk").first()
    assert as_user(staff).post(f"/api/v1/loans/{first.pk}/return/").status_code == 200
    assert checkout(as_user(member), copies[2]).status_code == 201


def test_staff_cannot_lend_past_a_members_limit(as_user, member, staff, limit_of_two):
    copies = list(create_book("Shelf", copies=3).copies.order_by("barcode"))
    for copy in copies[:2]:
        Loan.objects.create(copy=copy, borrower=member)
    response = checkout(as_user(staff), copies[2], borrower=member.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "loan_limit_reached"


def test_the_service_raises_a_domain_error_not_an_http_one(member, limit_of_two):
    copies = list(create_book("Shelf", copies=3).copies.order_by("barcode"))
    for copy in copies[:2]:
        services.check_out(copy, member)
    with pytest.raises(errors.LoanLimitReached) as refused:
        services.check_out(copies[2], member)
    assert not hasattr(refused.value, "status_code")
    with pytest.raises(errors.CopyOnLoan):
        services.check_out(copies[0], member)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_checkouts_by_one_member_respect_the_limit(django_user_model, settings):
    settings.LIBRARY_MAX_OPEN_LOANS = 3
    racers = 8
    copies = list(create_book("Rush", copies=racers).copies.all())
    member = django_user_model.objects.create_user("hasty")
    statuses = race_checkouts([(member, copy) for copy in copies])

    assert sorted(statuses) == [201] * 3 + [409] * (racers - 3)
    assert Loan.objects.filter(borrower=member, returned_at__isnull=True).count() == 3
