"""The catalogue as a web API: books and authors (anyone reads, staff edit)."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.validators import UniqueValidator

from catalog.isbn import ISBNFormField, normalize_isbn
from catalog.models import Author, Book
from circulation.models import books_with_availability
from library.filters import BooleanFilter, IdFilter
from library.serializers import CountField, JSONTypesMixin

# What the server reads as an ISBN: an ISBN-10 or an ISBN-13 (978 or 979), digits with a
# hyphen or space between any two, 20 characters at most. "format: isbn" adds the check digit,
# which a pattern cannot express: a client must compute it.
ISBN_SCHEMA = {
    "type": "string", "format": "isbn", "maxLength": 20,
    "pattern": r"^(?:[0-9][ -]?){9}[0-9Xx]$|^97[89][ -]?(?:[0-9][ -]?){9}[0-9]$",
    "description": "ISBN-13 or ISBN-10 (hyphens or spaces allowed), with a valid check digit.",
}


@extend_schema_field(ISBN_SCHEMA)
class ISBNSerializerField(serializers.CharField):
    """Accepts ISBN-10 or ISBN-13 (hyphens allowed); yields the ISBN-13."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", "ISBN-13 or ISBN-10 (converted to ISBN-13).")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_isbn(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class AuthorSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class AuthorSerializer(JSONTypesMixin, serializers.ModelSerializer):
    book_count = CountField()

    class Meta:
        model = Author
        fields = ["id", "name", "book_count", "created_at", "updated_at"]


class BookSerializer(JSONTypesMixin, serializers.ModelSerializer):
    isbn = ISBNSerializerField(
        validators=[
            UniqueValidator(Book.objects.all(), message="A book with this ISBN already exists.")
        ]
    )
    authors = AuthorSummarySerializer(many=True, read_only=True)
    author_ids = serializers.PrimaryKeyRelatedField(
        many=True, source="authors", queryset=Author.objects.all(), write_only=True,
        help_text="Ids of the book's authors.",
    )
    copies_total = CountField()
    copies_available = CountField()

    class Meta:
        model = Book
        fields = [
            "id", "title", "subtitle", "authors", "author_ids", "isbn", "publisher",
            "publication_date", "language", "page_count", "description",
            "copies_total", "copies_available", "created_at", "updated_at",
        ]


@extend_schema_field(ISBN_SCHEMA)
class ISBNFilter(django_filters.CharFilter):
    field_class = ISBNFormField


class BookFilter(django_filters.FilterSet):
    isbn = ISBNFilter(help_text="ISBN-10 or ISBN-13")
    author = IdFilter(field_name="authors", help_text="Author id")
    publisher = django_filters.CharFilter(lookup_expr="icontains")
    published_after = django_filters.DateFilter(field_name="publication_date", lookup_expr="gte")
    published_before = django_filters.DateFilter(field_name="publication_date", lookup_expr="lte")
    available = BooleanFilter(method="filter_available")

    class Meta:
        model = Book
        fields = ["language"]

    def filter_available(self, queryset, name, value):
        return queryset.filter(copies_available__gt=0) if value else queryset.filter(
            copies_available=0
        )


class BookViewSet(viewsets.ModelViewSet):
    serializer_class = BookSerializer
    filterset_class = BookFilter
    search_fields = ["title", "subtitle", "authors__name", "isbn"]
    ordering_fields = ["title", "publication_date", "page_count", "created_at", "updated_at"]
    ordering = ["title", "id"]

    def get_queryset(self):
        books = Book.objects.prefetch_related(
            Prefetch("authors", queryset=Author.objects.only("id", "name"))
        )
        return books_with_availability(books)


class AuthorViewSet(viewsets.ModelViewSet):
    serializer_class = AuthorSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    filterset_fields = {"name": ["exact", "icontains"]}

    def get_queryset(self):
        return Author.objects.annotate(book_count=Count("books"))
