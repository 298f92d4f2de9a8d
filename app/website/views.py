"""The public website: a searchable catalogue and a page per book with its copies."""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import render
from django.views.generic import DetailView, ListView

from catalog.isbn import normalize_isbn
from catalog.models import Author, Book
from circulation.models import Copy, books_with_availability
from core.throttling import AnonThrottle, UserThrottle, refused_for

MAX_QUERY_LENGTH = 200


def search_books(books, query: str):
    """Books whose title, subtitle or an author's name contains the query, or whose ISBN is it."""
    query = query.replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if not query:
        return books
    by_author = Author.books.through.objects.filter(
        book=OuterRef("pk"), author__name__icontains=query
    )
    matches = Q(title__icontains=query) | Q(subtitle__icontains=query) | Exists(by_author)
    matches |= Q(isbn__icontains=query.replace("-", "").replace(" ", ""))
    try:
        matches |= Q(isbn=normalize_isbn(query))  # an ISBN-10 finds its ISBN-13
    except ValidationError:
        pass
    return books.filter(matches)


def too_many_requests(request, wait: float):
    response = render(request, "429.html", status=429)
    response["Retry-After"] = str(round(wait))
    return response


class BookListView(ListView):
    template_name = "catalog/book_list.html"
    context_object_name = "books"
    paginate_by = 20

    def dispatch(self, request, *args, **kwargs):
        # A search costs the database what an API search does, so it counts against the same
        # limits, in the same shared counters (browsing the plain catalogue stays free).
        if request.GET.get("q", "").strip():
            wait = refused_for(request, [AnonThrottle(), UserThrottle()])
            if wait is not None:
                return too_many_requests(request, wait)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        self.query = self.request.GET.get("q", "")
        books = Book.objects.prefetch_related(
            Prefetch("authors", queryset=Author.objects.only("id", "name"))
        ).order_by("title", "id")
        return books_with_availability(search_books(books, self.query))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.query.strip()
        return context


class BookDetailView(DetailView):
    template_name = "catalog/book_detail.html"
    context_object_name = "book"

    def get_queryset(self):
        return books_with_availability(
            Book.objects.prefetch_related(
                "authors",
                Prefetch("copies", queryset=Copy.objects.with_open_loan().order_by("barcode")),
            )
        )
