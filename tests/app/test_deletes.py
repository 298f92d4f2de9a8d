"""A record others still refer to is not deleted: an author with books, a book with copies, a
copy with loans (open or returned: the loan history is the record). The API answers 409 naming
what holds it (a bounded list); the admin lists them as protected and deletes nothing."""

from datetime import timedelta

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from catalog.models import Author, Book
from circulation.models import Copy, Loan
from conftest import FormClient, create_book

pytestmark = pytest.mark.django_db


def protected_body(what: str, kind: str, items: list[dict], count: int | None = None) -> dict:
    return {
        "detail": f"Other records still refer to this one ({what}): delete or change them "
                  "first.",
        "code": "protected",
        "held_by": [{"type": kind, "count": count or len(items), "items": items}],
    }


def test_an_author_with_books_is_not_deleted_and_the_books_are_named(as_user, staff):
    emma = create_book("Emma", authors=("Jane Austen",), copies=0)
    persuasion = create_book("Persuasion", authors=("Jane Austen",), copies=0)
    austen = Author.objects.get(name="Jane Austen")
    response = as_user(staff).delete(f"/api/v1/authors/{austen.pk}/")
    assert response.status_code == 409, response.content
    assert response.json() == protected_body("2 books", "book", [
        {"id": emma.pk, "title": "Emma"}, {"id": persuasion.pk, "title": "Persuasion"}])
    assert list(emma.authors.all()) == [austen] and list(persuasion.authors.all()) == [austen]


def test_the_list_of_what_holds_a_record_is_bounded(as_user, staff):
    books = [create_book(f"Volume {n:02d}", authors=("Prolific",), copies=0) for n in range(12)]
    prolific = Author.objects.get(name="Prolific")
    response = as_user(staff).delete(f"/api/v1/authors/{prolific.pk}/")
    assert response.status_code == 409
    assert response.json() == protected_body("12 books", "book", [
        {"id": book.pk, "title": book.title} for book in books[:10]], count=12)


def test_an_author_without_books_is_deleted(as_user, staff):
    author = Author.objects.create(name="Nobody Yet")
    assert as_user(staff).delete(f"/api/v1/authors/{author.pk}/").status_code == 204
    assert not Author.objects.filter(pk=author.pk).exists()


def test_a_book_with_copies_is_not_deleted_and_the_copies_are_named(as_user, staff):
    book = create_book("Emma", copies=2)
    first, second = book.copies.order_by("pk")
    response = as_user(staff).delete(f"/api/v1/books/{book.pk}/")
    assert response.status_code == 409
    assert response.json() == protected_body("2 copies", "copy", [
        {"id": first.pk, "barcode": first.barcode}, {"id": second.pk, "barcode": second.barcode}])
    assert Book.objects.filter(pk=book.pk).exists()


@pytest.mark.parametrize("returned", [False, True], ids=["open", "returned"])
def test_a_copy_with_a_loan_is_not_deleted_and_the_loan_is_named(as_user, staff, member, copy,
                                                                 returned):
    loan = Loan.objects.create(copy=copy, borrower=member)
    if returned:
        loan.returned_at = timezone.now()
        loan.save()
    response = as_user(staff).delete(f"/api/v1/copies/{copy.pk}/")
    assert response.status_code == 409
    loan_json = as_user(staff).get(f"/api/v1/loans/{loan.pk}/").json()
    assert response.json() == protected_body("1 loan", "loan", [
        {"id": loan.pk, "checked_out_at": loan_json["checked_out_at"],
         "returned_at": loan_json["returned_at"]}])
    assert "mia" not in response.content.decode()  # not who borrowed it
    assert Copy.objects.filter(pk=copy.pk).exists()


def test_a_copy_without_loans_is_deleted(as_user, staff, copy):
    assert as_user(staff).delete(f"/api/v1/copies/{copy.pk}/").status_code == 204


def test_code_that_deletes_authors_in_bulk_is_refused_too(book):
    with pytest.raises(ProtectedError) as refused:
        Author.objects.all().delete()
    assert refused.value.protected_objects == [book]
    assert Author.objects.count() == 1 and book.authors.count() == 1


@pytest.fixture
def admin_client(django_user_model):
    client = FormClient()
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.invalid"))
    return client


PROTECTED_PAGE = "would require deleting the following protected related objects"


def test_the_admin_lists_an_authors_books_and_deletes_nothing(admin_client, book):
    author = book.authors.get()
    url = f"/admin/catalog/author/{author.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert PROTECTED_PAGE in text
    assert f'Book: <a href="/admin/catalog/book/{book.pk}/change/">{book.title}</a>' in text
    assert admin_client.post(url, {"post": "yes"}).status_code == 200  # the same page
    assert Author.objects.filter(pk=author.pk).exists() and book.authors.count() == 1


def test_the_admins_bulk_delete_of_authors_deletes_nothing(admin_client, book):
    lonely = Author.objects.create(name="Lonely")
    chosen = {"action": "delete_selected", "_selected_action": [lonely.pk, *book.authors.all()
                                                                .values_list("pk", flat=True)]}
    page = admin_client.post("/admin/catalog/author/", chosen)
    assert page.status_code == 200 and book.title in page.content.decode()
    assert PROTECTED_PAGE.replace("would require", "") in page.content.decode()
    response = admin_client.post("/admin/catalog/author/", {**chosen, "post": "yes"})
    assert response.status_code == 200
    assert Author.objects.count() == 2


@pytest.mark.parametrize("what", ["book", "copy"])
def test_the_admin_keeps_a_book_with_copies_and_a_copy_with_a_returned_loan(admin_client, member,
                                                                            copy, what):
    now = timezone.now()
    Loan.objects.create(copy=copy, borrower=member, checked_out_at=now - timedelta(days=3),
                        due_at=now + timedelta(days=18), returned_at=now)
    record = copy.book if what == "book" else copy
    url = f"/admin/{record._meta.app_label}/{what}/{record.pk}/delete/"
    assert PROTECTED_PAGE in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"post": "yes"}).status_code == 200
    assert type(record).objects.filter(pk=record.pk).exists()
