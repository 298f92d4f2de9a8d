import re

import pytest

from circulation.models import Copy, Loan
from conftest import create_book, create_books, request_queries

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return re.findall(r'<h2><a href="/books/\d+/">([^<]+)</a></h2>', response.content.decode())


def test_catalogue_page_lists_books_with_availability(client, book):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert titles(response) == ["Pride and Prejudice"]
    assert "Jane Austen" in html and "2 of 2 available" in html
    assert '<link rel="stylesheet" href="/static/library/site.css">' in html
    assert "<script" not in html  # works without JavaScript


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("prejudice", ["Pride and Prejudice"]),
        ("AUSTEN", ["Emma", "Pride and Prejudice"]),
        ("9780306406157", ["Emma"]),
        ("0-306-40615-2", ["Emma"]),  # an ISBN-10 finds the stored ISBN-13
        ("nothing matches this", []),
        ("nul\x00byte", []),
    ],
)
def test_search_by_title_author_or_isbn(client, book, query, expected):
    create_book("Emma", authors=("Jane Austen",), isbn="9780306406157")
    create_book("Dracula", authors=("Bram Stoker",))
    response = client.get("/", {"q": query})
    assert response.status_code == 200
    assert titles(response) == expected


def test_empty_search_explains(client, book):
    assert "No books match" in client.get("/", {"q": "zzz"}).content.decode()


def test_pagination_keeps_the_search(client):
    create_books(45)
    first = client.get("/", {"q": "bulk"})
    html = first.content.decode()
    assert len(titles(first)) == 20
    assert "Page 1 of 3" in html
    assert 'href="?q=bulk&amp;page=2"' in html
    last = client.get("/", {"q": "bulk", "page": 3})
    assert len(titles(last)) == 5
    assert 'rel="prev"' in last.content.decode()


@pytest.mark.parametrize("page", ["99", "abc", "0"])
def test_bad_page_is_a_404_page(client, book, page):
    response = client.get("/", {"page": page})
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_book_page_shows_copies_and_availability(client, member, book):
    first, second = book.copies.order_by("barcode")
    Loan.objects.create(copy=first, borrower=member)
    Copy.objects.create(book=book, barcode="REF-1", location="Reading room",
                        status=Copy.Status.REFERENCE)
    response = client.get(f"/books/{book.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Pride and Prejudice</h1>" in html
    assert book.isbn in html
    assert "On loan, due" in html
    assert html.count(">Available</span>") == 1
    assert "Reference only" in html
    assert "1 of 3 available" in html


def test_missing_book_is_a_404_page(client, db):
    response = client.get("/books/987654/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_book_page_runs_a_constant_number_of_queries(client):
    small = create_book("Few", authors=("One",), copies=1)
    big = create_book("Many", authors=("A", "B", "C"), copies=12)
    client.get(f"/books/{small.pk}/")
    few = request_queries(client, f"/books/{small.pk}/", cold=True)
    assert request_queries(client, f"/books/{big.pk}/", cold=True) == few
    assert few.catalogue == 3  # the book with its counts, its authors, its copies


def test_stylesheet_is_served_by_the_app(client):
    response = client.get("/static/library/site.css")
    assert response.status_code == 200
    assert "text/css" in response["Content-Type"]


def test_sign_in_page_and_signed_in_header(client, member, staff):
    assert client.get("/api/auth/login/").status_code == 200
    client.force_login(staff)
    html = client.get("/").content.decode()
    assert "Sign out (sam)" in html and 'href="/admin/"' in html


def test_pagination_links_carry_their_own_class(client):
    create_books(45)
    html = client.get("/", {"page": 2}).content.decode()
    links = re.findall(r'<a class="page-link" href="\?page=\d+" rel="(prev|next)">', html)
    assert links == ["prev", "next"]


def css_rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """Each rule's selectors and declarations (rules inside @media included)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (d.partition(":") for d in body.split(";") if ":" in d)
        )
        rules.append(([s.strip() for s in selectors.split(",")], declarations))
    return rules


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_masthead_link_colour_stays_in_the_masthead_and_pagination_links_are_readable(client):
    css = b"".join(client.get("/static/library/site.css").streaming_content).decode()
    rules = css_rules(css)
    # The masthead's light link colour, written for any <nav>, also coloured the pagination
    # (a <nav> on light paper): "Next" was nearly invisible.
    unscoped = [s for selectors, declarations in rules if "color" in declarations
                for s in selectors if "nav" in re.split(r"[\s>+~:.]+", s)
                and not s.startswith(".masthead ")]
    assert unscoped == []
    variables = next(d for selectors, d in rules if selectors == [":root"])
    colour = next(d["color"] for selectors, d in rules if ".pagination .page-link" in selectors)
    text = variables[colour.removeprefix("var(").removesuffix(")")]
    paper = variables["--paper"]
    lighter, darker = sorted([relative_luminance(text), relative_luminance(paper)], reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5  # WCAG AA for body text
