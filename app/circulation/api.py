"""Circulation as a web API: the catalogue's books with their copy counts, copies (anyone
reads; writes need the model permission) and loans (a member sees their own and borrows;
staff see all, lend to anyone and record returns), with checkout and return as actions. The
services' refusals (circulation.errors) become HTTP answers here."""

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api.filters import BooleanFilter, IdFilter
from api.pagination import Pagination
from api.schema import ErrorSerializer
from api.serializers import CountField, JSONTypesMixin
from catalog import api as catalog_api
from circulation import errors, services
from circulation.catalogue_version import CATALOGUE
from circulation.models import Copy, Loan, books_with_availability
from core import page_cache
from core.errors import Conflict
from core.paginator import PageFirstPaginator


# No docstrings on the book classes: the schema would show them as descriptions.
class BookSerializer(catalog_api.BookSerializer):
    copies_total = CountField()
    copies_available = CountField()

    class Meta(catalog_api.BookSerializer.Meta):
        fields = [
            "id", "title", "subtitle", "authors", "author_ids", "isbn", "publisher",
            "publication_date", "language", "page_count", "description",
            "copies_total", "copies_available", "created_at", "updated_at",
        ]


class BookFilter(catalog_api.BookFilter):
    available = BooleanFilter(method="filter_available")

    def filter_available(self, queryset, name, value):
        return queryset.filter(copies_available__gt=0) if value else queryset.filter(
            copies_available=0
        )


# No docstring (the schema would show it as every operation's description).
# Book lists and books as JSON from the page cache (core.page_cache), under the catalogue's
# version. The JSON is the same for every user, so it is shared; the browsable API's pages are
# not (they hold the user's name and CSRF token), nor is JSON asked for with parameters (an
# indent), nor a request with query parameters the list does not read (each would take an
# entry of its own).
class CachedReadsMixin:
    def list(self, request, *args, **kwargs):
        return self.cached(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self.cached(super().retrieve, request, *args, **kwargs)

    def cached(self, handler, request, *args, **kwargs):
        if not self.cacheable(request):
            return handler(request, *args, **kwargs)

        def render():
            # What DRF does to the handler's response after it returns, done now so that the
            # bytes can be stored.
            response = handler(request, *args, **kwargs)
            return self.finalize_response(request, response, *args, **kwargs).render()

        parts = (request.accepted_media_type, page_cache.query_parameters(request))
        return page_cache.serve(request, CATALOGUE, parts, render)

    def cacheable(self, request) -> bool:
        return (
            request.method in ("GET", "HEAD")
            and isinstance(request.accepted_renderer, JSONRenderer)
            and request.accepted_media_type == JSONRenderer.media_type
            and set(request.query_params) <= self.read_parameters()
        )

    def read_parameters(self) -> set[str]:
        paginator = self.paginator
        return {
            paginator.page_query_param, paginator.page_size_query_param,
            api_settings.SEARCH_PARAM, api_settings.ORDERING_PARAM,
            api_settings.URL_FORMAT_OVERRIDE, *self.filterset_class.base_filters,
        }


class BookPagination(Pagination):
    django_paginator_class = PageFirstPaginator  # copy counts for the page's rows alone


class BookViewSet(CachedReadsMixin, catalog_api.BookViewSet):
    serializer_class = BookSerializer
    filterset_class = BookFilter
    pagination_class = BookPagination
    # Annotated once, at import: annotating costs more Python than the page's SQL takes, and
    # DRF's permission check asks for the queryset too, on every request, cached or not.
    queryset = books_with_availability(catalog_api.BookViewSet.queryset)


class CopySerializer(JSONTypesMixin, serializers.ModelSerializer):
    book_title = serializers.CharField(source="book.title", read_only=True)
    available = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Copy
        fields = [
            "id", "barcode", "book", "book_title", "location", "status", "available", "due_at",
            "created_at", "updated_at",
        ]

    def get_available(self, copy) -> bool:
        return copy.status == Copy.Status.CIRCULATING and not getattr(copy, "on_loan", False)


class CopyFilter(django_filters.FilterSet):
    book = IdFilter(help_text="Book id")
    available = BooleanFilter(method="filter_available")

    class Meta:
        model = Copy
        fields = ["book", "status", "barcode"]

    def filter_available(self, queryset, name, value):
        lendable = {"status": Copy.Status.CIRCULATING, "on_loan": False}
        return queryset.filter(**lendable) if value else queryset.exclude(**lendable)


class CopyViewSet(viewsets.ModelViewSet):
    serializer_class = CopySerializer
    filterset_class = CopyFilter
    search_fields = ["barcode", "book__title", "location"]
    ordering_fields = ["barcode", "location", "status", "created_at"]
    ordering = ["barcode"]

    def get_queryset(self):
        # Of its book a copy shows the title alone, and a description can be 10 000 characters.
        return Copy.objects.select_related("book").defer("book__description").with_open_loan()


class LoanSerializer(serializers.ModelSerializer):
    barcode = serializers.CharField(source="copy.barcode", read_only=True)
    book = serializers.IntegerField(source="copy.book_id", read_only=True)
    book_title = serializers.CharField(source="copy.book.title", read_only=True)
    borrower_username = serializers.CharField(source="borrower.username", read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id", "copy", "barcode", "book", "book_title", "borrower", "borrower_username",
            "checked_out_at", "due_at", "returned_at", "is_open",
        ]
        read_only_fields = fields


class CheckoutSerializer(JSONTypesMixin, serializers.Serializer):
    copy = serializers.PrimaryKeyRelatedField(queryset=Copy.objects.all(), help_text="Copy id")
    borrower = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        help_text="Staff only: lend to this user id instead of yourself.",
    )


class LoanFilter(django_filters.FilterSet):
    open = BooleanFilter(field_name="returned_at", lookup_expr="isnull")
    # A member's list holds only their own loans, so another user's id gives an empty page,
    # the same as an id no user has: the filter does not tell members which user ids exist.
    borrower = IdFilter(help_text="User id")
    copy = IdFilter(help_text="Copy id")

    class Meta:
        model = Loan
        fields = ["copy", "borrower"]


def http_error(error: errors.CirculationError):
    """The API's answer to a refusal of the circulation rules."""
    if isinstance(error, errors.CopyGone):  # the request named it: a 400 naming the field
        return ValidationError({"copy": [error.message]})
    if isinstance(error, errors.LoanGone):
        return NotFound()
    if isinstance(error, errors.LoanLimitReached):
        return Conflict(error.message, code="loan_limit_reached")
    return Conflict(error.message)


class IsStaff(permissions.IsAdminUser):
    message = "Only staff record a return."


class LoanViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LoanSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = LoanFilter
    search_fields = ["copy__barcode", "copy__book__title"]
    ordering_fields = ["checked_out_at", "due_at", "returned_at"]
    ordering = ["-checked_out_at", "-id"]

    def handle_exception(self, exc):
        if isinstance(exc, errors.CirculationError):
            exc = http_error(exc)
        return super().handle_exception(exc)

    def get_queryset(self):
        # Of its book a loan shows the title alone (a description can be 10 000 characters).
        loans = Loan.objects.select_related("copy__book", "borrower").defer(
            "copy__book__description")
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return loans.none()
        if self.request.user.is_staff:
            return loans
        return loans.filter(borrower=self.request.user)

    @extend_schema(request=CheckoutSerializer, responses={
        201: LoanSerializer,
        403: OpenApiResponse(ErrorSerializer, "Only staff lend to someone else (`borrower`)."),
        409: OpenApiResponse(ErrorSerializer, "The copy is on loan or not lendable, or the "
                             "borrower may not borrow more."),
    })
    @action(detail=False, methods=["post"])
    def checkout(self, request):
        """Lend a copy to yourself (or, for staff, to `borrower`). 409 if it is not available or
        the borrower already has the most open loans allowed."""
        # Refused before validation: checking that the user exists first would let a member
        # tell existing user ids (403) from missing ones (400).
        if not request.user.is_staff and self.names_someone_else(request):
            raise PermissionDenied("Only staff can check a copy out to someone else.")
        form = CheckoutSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        borrower = form.validated_data.get("borrower", request.user)
        loan = services.check_out(form.validated_data["copy"], borrower)
        loan = Loan.objects.select_related(
            "copy__book", "borrower"
        ).get(pk=loan.pk)
        return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def names_someone_else(request) -> bool:
        data = request.data
        if not hasattr(data, "get") or data.get("borrower") is None:
            return False
        return str(data.get("borrower")) != str(request.user.pk)

    @extend_schema(request=None, responses={
        200: LoanSerializer,
        403: OpenApiResponse(ErrorSerializer, "Only staff record a return."),
        409: OpenApiResponse(ErrorSerializer, "The loan was already returned."),
    })
    # Checked before the loan is looked up: a member learns nothing about which loans exist.
    @action(detail=True, methods=["post"], url_path="return", permission_classes=[IsStaff])
    def return_loan(self, request, pk=None):
        """Record that a loan's copy is back (staff only: the desk has the copy in hand).
        409 if it was already returned."""
        loan = services.check_in(self.get_object())
        return Response(LoanSerializer(loan).data)
