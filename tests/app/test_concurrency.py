"""Racing checkouts of one copy: real threads, each with its own PostgreSQL connection."""

import pytest

from circulation.models import Loan
from conftest import create_book, race_checkouts

RACERS = 20


@pytest.mark.django_db(transaction=True)
def test_simultaneous_checkouts_of_one_copy_make_exactly_one_loan(django_user_model):
    copy = create_book("Contested", copies=1).copies.get()
    users = [django_user_model.objects.create_user(f"racer{i}") for i in range(RACERS)]
    statuses = race_checkouts([(user, copy) for user in users])

    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    assert Loan.objects.filter(copy=copy).count() == 1
    assert Loan.objects.filter(copy=copy, returned_at__isnull=True).count() == 1
