from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Book
from circulation.models import Loan

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_open_loan_of_one_copy(copy, member, other_member):
    Loan.objects.create(copy=copy, borrower=member)
    # bulk_create skips model validation: only the partial unique index can stop this.
    with pytest.raises(IntegrityError, match="one_open_loan_per_copy"), transaction.atomic():
        Loan.objects.bulk_create([Loan(copy=copy, borrower=other_member)])


def test_returned_loans_do_not_block_a_new_one(copy, member, other_member):
    earlier = timezone.now() - timedelta(days=3)
    Loan.objects.create(
        copy=copy, borrower=member, checked_out_at=earlier, returned_at=timezone.now()
    )
    Loan.objects.create(copy=copy, borrower=other_member)
    assert Loan.objects.filter(copy=copy).count() == 2


def test_isbn_is_unique_in_the_database(book):
    with pytest.raises(IntegrityError), transaction.atomic():
        Book.objects.create(title="Duplicate", isbn=book.isbn)


def test_due_date_must_follow_checkout(copy, member):
    now = timezone.now()
    with pytest.raises(IntegrityError, match="loan_due_after_checkout"), transaction.atomic():
        Loan.objects.create(copy=copy, borrower=member, checked_out_at=now, due_at=now)
