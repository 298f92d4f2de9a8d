from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.models import Book


class CopyQuerySet(models.QuerySet):
    def with_open_loan(self):
        """Annotate `on_loan` and `due_at` in the same query (no per-copy loan lookups)."""
        open_loans = Loan.objects.filter(copy=OuterRef("pk"), returned_at__isnull=True)
        return self.annotate(
            on_loan=Exists(open_loans),
            due_at=models.Subquery(open_loans.values("due_at")[:1]),
        )


class Copy(models.Model):
    """One physical item of a book, identified by the barcode on its spine."""

    class Status(models.TextChoices):
        CIRCULATING = "circulating", "Circulating"
        REFERENCE = "reference", "Reference only"
        IN_REPAIR = "in_repair", "In repair"
        LOST = "lost", "Lost"

    barcode = models.CharField(max_length=32, unique=True)
    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="copies")
    location = models.CharField(max_length=100, help_text="Branch and shelf, e.g. 'Main: 823 AUS'")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CIRCULATING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CopyQuerySet.as_manager()

    class Meta:
        ordering = ["barcode"]
        verbose_name_plural = "copies"

    def __str__(self):
        return f"{self.barcode} ({self.book})"

    def summary(self) -> dict:
        """What names it where a deletion it blocks is refused."""
        return {"id": self.pk, "barcode": self.barcode}


def default_due_at():
    return timezone.now() + timedelta(days=settings.LOAN_PERIOD_DAYS)


class Loan(models.Model):
    copy = models.ForeignKey(Copy, on_delete=models.PROTECT, related_name="loans")
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loans"
    )
    checked_out_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=default_due_at)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_out_at", "-id"]
        constraints = [
            # The database, not only Python, guarantees a copy is lent to one borrower at a time.
            models.UniqueConstraint(
                fields=["copy"],
                condition=Q(returned_at__isnull=True),
                name="one_open_loan_per_copy",
                violation_error_message="This copy is already on loan.",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=models.F("checked_out_at")),
                name="loan_due_after_checkout",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True)
                | Q(returned_at__gte=models.F("checked_out_at")),
                name="loan_returned_after_checkout",
            ),
        ]
        indexes = [models.Index(fields=["borrower", "returned_at"])]

    def __str__(self):
        return f"{self.copy.barcode} to {self.borrower}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    def summary(self) -> dict:
        """What names it where a deletion it blocks is refused (not its borrower)."""
        return {"id": self.pk, "checked_out_at": self.checked_out_at,
                "returned_at": self.returned_at}


def books_with_availability(books):
    """Annotate a Book queryset with copy counts, in the same query as the books."""
    copies = Copy.objects.filter(book=OuterRef("pk")).order_by().values("book")
    available = copies.filter(status=Copy.Status.CIRCULATING).exclude(
        Exists(Loan.objects.filter(copy=OuterRef("pk"), returned_at__isnull=True))
    )
    count = models.Func(models.F("pk"), function="COUNT")
    return books.annotate(
        copies_total=models.functions.Coalesce(
            models.Subquery(copies.annotate(n=count).values("n")), 0
        ),
        copies_available=models.functions.Coalesce(
            models.Subquery(available.annotate(n=count).values("n")), 0
        ),
    )
