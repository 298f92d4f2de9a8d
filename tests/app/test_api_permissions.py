"""Catalogue and copy writes follow Django's model permissions, not the staff flag alone."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from catalog.models import Author, Book
from circulation.models import Copy

pytestmark = pytest.mark.django_db


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    # Django caches a user's permissions on the instance: sign in a fresh one.
    return get_user_model().objects.get(pk=user.pk)


def assert_refused(response):
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "permission_denied"


def test_staff_without_add_author_cannot_add_one_and_with_it_can(as_user, bare_staff):
    assert_refused(as_user(bare_staff).post("/api/v1/authors/", {"name": "Ada Writer"}))
    assert not Author.objects.exists()

    response = as_user(grant(bare_staff, "add_author")).post(
        "/api/v1/authors/", {"name": "Ada Writer"}
    )
    assert response.status_code == 201, response.content
    assert Author.objects.get().name == "Ada Writer"


def test_each_write_needs_its_own_permission(as_user, bare_staff, book):
    client = as_user(grant(bare_staff, "change_book"))
    assert client.patch(f"/api/v1/books/{book.pk}/", {"title": "Renamed"}).status_code == 200
    assert_refused(client.delete(f"/api/v1/books/{book.pk}/"))
    assert_refused(client.post("/api/v1/books/", {"title": "New"}))
    assert Book.objects.get().title == "Renamed"


def test_copies_follow_model_permissions_too(as_user, bare_staff, book):
    payload = {"barcode": "PERM-1", "book": book.pk, "location": "Annex"}
    copy = book.copies.first()
    client = as_user(bare_staff)
    assert_refused(client.post("/api/v1/copies/", payload))
    assert_refused(client.patch(f"/api/v1/copies/{copy.pk}/", {"location": "Basement"}))
    assert_refused(client.delete(f"/api/v1/copies/{copy.pk}/"))
    assert as_user(grant(bare_staff, "add_copy")).post(
        "/api/v1/copies/", payload
    ).status_code == 201
    assert Copy.objects.filter(barcode="PERM-1").exists()


def test_reading_needs_no_permission(api, as_user, bare_staff, book):
    for client in (api, as_user(bare_staff)):
        assert client.get("/api/v1/books/").status_code == 200
        assert client.get(f"/api/v1/authors/{book.authors.get().pk}/").status_code == 200
        assert client.get("/api/v1/copies/").status_code == 200


def test_anonymous_writes_are_told_to_sign_in(api):
    response = api.post("/api/v1/authors/", {"name": "Nobody"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
