from django.conf import global_settings
from django.db import models
from django.urls import reverse

from catalog.isbn import ISBNField


class AuthorQuerySet(models.QuerySet):
    def delete(self):
        refuse_to_orphan_books(self)
        return super().delete()


class Author(models.Model):
    """Deleting one that still has books is refused (refuse_to_orphan_books): the books would
    be left without authors."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def delete(self, *args, **kwargs):
        refuse_to_orphan_books([self])
        return super().delete(*args, **kwargs)


class Book(models.Model):
    # ISO 639-1 codes (with Django's regional variants), as Django itself lists them.
    LANGUAGES = global_settings.LANGUAGES

    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    authors = models.ManyToManyField(Author, related_name="books")
    isbn = ISBNField("ISBN", unique=True, help_text="ISBN-13; an ISBN-10 is converted.")
    publisher = models.CharField(max_length=200, blank=True)
    publication_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=7, choices=LANGUAGES, default="en")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["title"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("catalog:book-detail", args=[self.pk])

    def summary(self) -> dict:
        """What names it where a deletion it blocks is refused."""
        return {"id": self.pk, "title": self.title}


def refuse_to_orphan_books(authors) -> None:
    """Raise ProtectedError naming the books of `authors` (Author.delete and its querysets'):
    what on_delete=PROTECT does for a foreign key, for a book's many-to-many authors, whose
    link rows Django would delete with the author. Raised before the deletion begins, as
    PROTECT's is, so a transaction around it stays usable."""
    books = list(Book.objects.filter(authors__in=authors).distinct().only("id", "title")
                 .order_by("pk"))
    if books:
        raise models.ProtectedError(
            f"Cannot delete an author whose books still name them ({len(books)} books).",
            books,
        )

