"""The public website: a searchable catalogue and a page per book with its copies.

Pages come from the page cache (core.page_cache) under the catalogue's version, so a checkout
or a new copy shows on the very next read. A visitor who is not signed in gets the whole page
from the cache (and a 304 when their browser has it); a signed-in user's page names them and
holds their CSRF token, so it is rendered for them, around a book list that is the same for
everyone and comes from the cache.
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.generic import DetailView, ListView

from catalog.isbn import normalize_isbn
from catalog.models import Author, Book
from circulation.catalogue_version import CATALOGUE
from circulation.models import Copy, books_with_availability
from core import page_cache
from core.paginator import PageFirstPaginator
from core.throttling import AnonThrottle, UserThrottle, refused_for

MAX_QUERY_LENGTH = 200

# Built once, at import: annotating costs more Python than the page's SQL takes. Only what
# the list shows is read (a description can be 10 000 characters).
LISTED_BOOKS = books_with_availability(
    Book.objects.only("id", "title", "subtitle", "isbn", "publisher", "publication_date")
    .prefetch_related(Prefetch("authors", queryset=Author.objects.only("id", "name")))
    .order_by("title", "id")
)
BOOKS_WITH_COPIES = books_with_availability(
    Book.objects.prefetch_related(
        "authors",
        Prefetch("copies", queryset=Copy.objects.with_open_loan().order_by("barcode")),
    )
)


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
    results_template_name = "catalog/book_list_results.html"
    context_object_name = "books"
    paginate_by = 20
    paginator_class = PageFirstPaginator

    def dispatch(self, request, *args, **kwargs):
        # A search costs the database what an API search does, so it counts against the same
        # limits, in the same shared counters (browsing the plain catalogue stays free).
        # Counted before the cache is asked: a cached search counts all the same.
        if request.GET.get("q", "").strip():
            wait = refused_for(request, [AnonThrottle(), UserThrottle()])
            if wait is not None:
                return too_many_requests(request, wait)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        # The page reads q and page alone: other parameters (a campaign tag) share its entry.
        self.query = request.GET.get("q", "")
        self.key_parts = (self.query, request.GET.get("page", ""))
        if request.user.is_authenticated:
            return self.page()
        return page_cache.serve(request, CATALOGUE, self.key_parts, self.page)

    def page(self):
        results = page_cache.fragment(self.request, CATALOGUE, self.key_parts,
                                      self.render_results)
        # Safe: the text is this app's own template output, escaped as it was rendered (the
        # cache may hand it back as a plain str).
        results = mark_safe(results)  # noqa: S308
        return render(self.request, self.template_name,
                      {"query": self.query.strip(), "results": results})

    def render_results(self) -> str:
        """The search form, the page of books and the pagination: nothing of the user's."""
        self.object_list = self.get_queryset()
        return render_to_string(self.results_template_name, self.get_context_data())

    def get_queryset(self):
        return search_books(LISTED_BOOKS.all(), self.query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.query.strip()
        return context


class BookDetailView(DetailView):
    template_name = "catalog/book_detail.html"
    context_object_name = "book"

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated:  # the page names the user and holds their CSRF token
            return super().get(request, *args, **kwargs)
        return page_cache.serve(request, CATALOGUE, (),
                                lambda: super(BookDetailView, self).get(request, *args, **kwargs)
                                .render())

    def get_queryset(self):
        return BOOKS_WITH_COPIES.all()
