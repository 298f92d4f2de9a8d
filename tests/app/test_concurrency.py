"""Racing checkouts of one copy: real threads, each with its own PostgreSQL connection."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from circulation.models import Loan
from conftest import create_book

RACERS = 20


@pytest.mark.django_db(transaction=True)
def test_simultaneous_checkouts_of_one_copy_make_exactly_one_loan(django_user_model):
    copy = create_book("Contested", copies=1).copies.get()
    users = [django_user_model.objects.create_user(f"racer{i}") for i in range(RACERS)]
    barrier = threading.Barrier(RACERS)
    statuses = []

    def race(user):
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/v1/loans/checkout/", {"copy": copy.pk}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=race, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    assert Loan.objects.filter(copy=copy).count() == 1
    assert Loan.objects.filter(copy=copy, returned_at__isnull=True).count() == 1
