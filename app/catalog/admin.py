from django.contrib import admin

from catalog.models import Author, Book


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "isbn", "publisher", "publication_date", "language"]
    list_filter = ["language"]
    search_fields = ["title", "subtitle", "isbn", "authors__name"]
    autocomplete_fields = ["authors"]
