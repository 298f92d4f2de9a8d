from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from catalog.models import Author, Book


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    search_fields = ["name"]

    def get_deleted_objects(self, objs, request):
        """An author who still has books cannot be deleted (catalog.models.
        refuse_to_orphan_books): the admin lists the books as protected objects and offers no
        confirmation, as it does for a book with copies (on_delete=PROTECT)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        books = Book.objects.filter(authors__in=objs).distinct().order_by("title", "pk")
        return deleted, counts, perms_needed, [*protected, *map(self.book_link, books)]

    @staticmethod
    def book_link(book):
        url = reverse("admin:catalog_book_change", args=[book.pk])
        return format_html('{}: <a href="{}">{}</a>', capfirst(Book._meta.verbose_name), url,
                           book)


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "isbn", "publisher", "publication_date", "language"]
    list_filter = ["language"]
    search_fields = ["title", "subtitle", "isbn", "authors__name"]
    autocomplete_fields = ["authors"]
