"""Checking copies out and in. Both lock the rows they decide on, so racing requests queue up;
the partial unique constraint on Loan is the last word should anything slip past.
Refusals are circulation.errors, with no HTTP in them: the API maps them."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from circulation import errors
from circulation.models import Copy, Loan


def check_out(copy: Copy, borrower) -> Loan:
    try:
        with transaction.atomic():
            # Racing checkouts of one copy wait here, then see the winner's loan.
            locked = Copy.objects.select_for_update().filter(pk=copy.pk).first()
            if locked is None:
                raise errors.CopyGone(f"Copy {copy.pk} no longer exists.")
            if locked.status != Copy.Status.CIRCULATING:
                raise errors.CopyNotLendable(
                    f"Copy {locked.barcode} cannot be lent: {locked.get_status_display().lower()}."
                )
            if Loan.objects.filter(copy=locked, returned_at__isnull=True).exists():
                raise errors.CopyOnLoan(f"Copy {locked.barcode} is already on loan.")
            check_loan_limit(borrower)
            return Loan.objects.create(copy=locked, borrower=borrower)
    except IntegrityError:
        raise errors.CopyOnLoan(f"Copy {copy.barcode} is already on loan.") from None


def check_loan_limit(borrower) -> None:
    """Refuse a loan beyond LIBRARY_MAX_OPEN_LOANS. The borrower's row is locked first, so two
    checkouts racing for the same borrower are counted one after the other."""
    get_user_model().objects.select_for_update().filter(pk=borrower.pk).first()
    limit = settings.LIBRARY_MAX_OPEN_LOANS
    open_loans = Loan.objects.filter(borrower=borrower, returned_at__isnull=True).count()
    if open_loans >= limit:
        raise errors.LoanLimitReached(
            f"{borrower.get_username()} already has {open_loans} open loans, the most allowed "
            f"is {limit}: return one before borrowing another."
        )


def check_in(loan: Loan) -> Loan:
    with transaction.atomic():
        locked = Loan.objects.select_for_update().filter(pk=loan.pk).first()
        if locked is None:  # deleted (in the admin) since it was looked up
            raise errors.LoanGone("This loan no longer exists.")
        if locked.returned_at is not None:
            raise errors.AlreadyReturned("This loan has already been returned.")
        locked.returned_at = timezone.now()
        locked.save(update_fields=["returned_at"])
    loan.returned_at = locked.returned_at
    return loan
