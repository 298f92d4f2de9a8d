"""Checking copies out and in. Both lock the row they change, so racing requests queue up;
the partial unique constraint on Loan is the last word should anything slip past."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from circulation.models import Copy, Loan
from library.api import Conflict


def check_out(copy: Copy, borrower) -> Loan:
    try:
        with transaction.atomic():
            # Racing checkouts of one copy wait here, then see the winner's loan.
            locked = Copy.objects.select_for_update().filter(pk=copy.pk).first()
            if locked is None:  # deleted since the request was validated: a 400, not a 500
                raise ValidationError({"copy": [f"Copy {copy.pk} no longer exists."]})
            if locked.status != Copy.Status.CIRCULATING:
                raise Conflict(
                    f"Copy {locked.barcode} cannot be lent: {locked.get_status_display().lower()}."
                )
            if Loan.objects.filter(copy=locked, returned_at__isnull=True).exists():
                raise Conflict(f"Copy {locked.barcode} is already on loan.")
            return Loan.objects.create(copy=locked, borrower=borrower)
    except IntegrityError:
        raise Conflict(f"Copy {copy.barcode} is already on loan.") from None


def check_in(loan: Loan) -> Loan:
    with transaction.atomic():
        locked = Loan.objects.select_for_update().filter(pk=loan.pk).first()
        if locked is None:  # deleted (in the admin) since it was looked up: a 404, not a 500
            raise NotFound()
        if locked.returned_at is not None:
            raise Conflict("This loan has already been returned.")
        locked.returned_at = timezone.now()
        locked.save(update_fields=["returned_at"])
    loan.returned_at = locked.returned_at
    return loan
