"""The catalogue as a web API: books and authors (anyone reads; writes need the model
permission: see the api package). circulation.api adds each book's copy counts to the
books it serves."""

import re

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.validators import UniqueValidator

from api.filters import IdFilter
from api.serializers import CountField, JSONTypesMixin
from catalog.isbn import ISBNFormField, normalize_isbn
from catalog.models import Author, Book

# The spellings of an ISBN the API reads, before normalize_isbn checks the digits: ASCII or
# full-width digits (an ISBN-10 may end in X), 10 or 13 of them, with any hyphens or spaces
# (ASCII or full-width) around them, 20 characters at most. The schema shows this pattern, and
# the API applies it as written (no other trimming), so the two cannot disagree. Its parts
# never overlap, so matching takes linear time. "format: isbn" adds the check digit (and the
# 978/979 prefix), which a client must compute.
_DIGIT = "[0-9\\uff10-\\uff19]"
_LAST = "[0-9\\uff10-\\uff19Xx\\uff38\\uff58]"
_SEP = "[ \\-\\u3000\\uff0d]*"
ISBN_PATTERN = f"^{_SEP}(?:{_DIGIT}{_SEP}){{9}}(?:{_LAST}|(?:{_DIGIT}{_SEP}){{3}}{_DIGIT}){_SEP}$"
ISBN_INPUT = re.compile(ISBN_PATTERN)
ISBN_MAX_LENGTH = 20
ISBN_SCHEMA = {
    "type": "string", "format": "isbn", "maxLength": ISBN_MAX_LENGTH, "pattern": ISBN_PATTERN,
    "description": "ISBN-13 or ISBN-10 (hyphens or spaces allowed), with a valid check digit.",
}
ISBN_SPELLING = "An ISBN is 10 or 13 digits (an ISBN-10 may end in X), hyphens and spaces."


def read_isbn(value: str) -> str:
    """The ISBN-13 for what the API was sent, or a ValidationError saying why not."""
    if not ISBN_INPUT.fullmatch(value):  # fullmatch: "$" alone lets a final newline by
        raise DjangoValidationError(ISBN_SPELLING, code="isbn_format")
    if len(value) > ISBN_MAX_LENGTH:
        raise DjangoValidationError(
            f"Ensure this field has no more than {ISBN_MAX_LENGTH} characters.", code="max_length")
    return normalize_isbn(value)


@extend_schema_field(ISBN_SCHEMA)
class ISBNSerializerField(serializers.CharField):
    """Accepts ISBN-10 or ISBN-13 (hyphens allowed); yields the ISBN-13."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISBN-13 or ISBN-10 (converted to ISBN-13).")
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return read_isbn(value)
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

    class Meta:
        model = Book
        fields = [
            "id", "title", "subtitle", "authors", "author_ids", "isbn", "publisher",
            "publication_date", "language", "page_count", "description",
            "created_at", "updated_at",
        ]


class ISBNQueryField(ISBNFormField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.strip = False  # the pattern says which spaces an ISBN may have

    def to_python(self, value):
        return read_isbn(value) if value else ""


@extend_schema_field(ISBN_SCHEMA)
class ISBNFilter(django_filters.CharFilter):
    field_class = ISBNQueryField


class BookFilter(django_filters.FilterSet):
    isbn = ISBNFilter(help_text="ISBN-10 or ISBN-13")
    author = IdFilter(field_name="authors", help_text="Author id")
    publisher = django_filters.CharFilter(lookup_expr="icontains")
    published_after = django_filters.DateFilter(field_name="publication_date", lookup_expr="gte")
    published_before = django_filters.DateFilter(field_name="publication_date", lookup_expr="lte")

    class Meta:
        model = Book
        fields = ["language"]


class BookViewSet(viewsets.ModelViewSet):
    serializer_class = BookSerializer
    filterset_class = BookFilter
    search_fields = ["title", "subtitle", "authors__name", "isbn"]
    ordering_fields = ["title", "publication_date", "page_count", "created_at", "updated_at"]
    ordering = ["title", "id"]
    # DRF clones it for each request (get_queryset).
    queryset = Book.objects.prefetch_related(
        Prefetch("authors", queryset=Author.objects.only("id", "name"))
    )


class AuthorViewSet(viewsets.ModelViewSet):
    serializer_class = AuthorSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    filterset_fields = {"name": ["exact", "icontains"]}

    def get_queryset(self):
        return Author.objects.annotate(book_count=Count("books"))
