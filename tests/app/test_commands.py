import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connections
from django.db.models import Count

from catalog.models import Author, Book
from circulation.models import Copy

pytestmark = pytest.mark.django_db


def counts():
    return Book.objects.count(), Author.objects.count(), Copy.objects.count()


def test_seed_library_is_idempotent_and_sized(capsys):
    call_command("seed_library")
    first = counts()
    assert first[0] == 24 and first[2] >= first[0]
    call_command("seed_library")
    assert counts() == first
    call_command("seed_library", books=60)
    assert counts()[0] == 60
    call_command("seed_library", books=60)
    assert counts()[0] == 60
    assert "0 books and 0 copies added" in capsys.readouterr().out


def test_seeded_isbns_are_valid(db):
    call_command("seed_library", books=30)
    for book in Book.objects.all():
        book.full_clean()


def test_seed_library_refuses_absurd_sizes():
    with pytest.raises(CommandError, match="--books"):
        call_command("seed_library", books=-1)
    with pytest.raises(CommandError, match="--copies-per-book"):
        call_command("seed_library", copies_per_book=0)


def test_seed_library_sizes_the_shelves_and_links_every_author():
    call_command("seed_library", books=300, copies_per_book=3)
    assert counts()[0] == 300
    assert Copy.objects.count() == 900  # 2, 3 and 4 copies in turn
    per_book = set(Book.objects.annotate(n=Count("copies")).values_list("n", flat=True))
    assert per_book == {2, 3, 4}
    assert not Book.objects.filter(authors=None).exists()
    good_omens = Book.objects.get(title="Good Omens")
    assert sorted(good_omens.authors.values_list("name", flat=True)) == [
        "Neil Gaiman", "Terry Pratchett"]


def test_ensure_admin_creates_the_first_admin_once(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_ADMIN_USERNAME", "chief")
    monkeypatch.setenv("DJANGO_ADMIN_EMAIL", "chief@example.invalid")
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", "example-only-password")
    call_command("ensure_admin")
    admin = get_user_model().objects.get(username="chief")
    assert admin.is_superuser and admin.is_staff and admin.check_password("example-only-password")

    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", "a-different-password")
    call_command("ensure_admin")
    admin.refresh_from_db()
    assert admin.check_password("example-only-password")  # never reset on a later deploy
    assert get_user_model().objects.count() == 1
    assert "already exists" in capsys.readouterr().out


def test_ensure_admin_reads_the_password_from_stdin(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_USERNAME", "chief")
    monkeypatch.delenv("DJANGO_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin-password\n"))
    call_command("ensure_admin", "--password-stdin")
    assert get_user_model().objects.get(username="chief").check_password("from-stdin-password")


def test_ensure_admin_with_empty_stdin_refuses(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_USERNAME", "chief")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="stdin"):
        call_command("ensure_admin", "--password-stdin")
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("Tr0ub4dor&3", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("839201746153", "This password is entirely numeric."),
        ("chief@example.invalid", "The password is too similar to the email address."),
    ],
)
def test_ensure_admin_refuses_a_weak_password_in_one_line(monkeypatch, capsys, password, says):
    monkeypatch.setenv("DJANGO_ADMIN_USERNAME", "chief")
    monkeypatch.setenv("DJANGO_ADMIN_EMAIL", "chief@example.invalid")
    monkeypatch.setenv("DJANGO_ADMIN_PASSWORD", password)
    # As manage.py runs it, minus closing the test's database connection at the end.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "ensure_admin"]).execute()
    assert exit_.value.code != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("CommandError: DJANGO_ADMIN_PASSWORD is refused: "), lines
    assert says in lines[0]
    assert password not in lines[0]
    assert not get_user_model().objects.exists()


def test_ensure_admin_refuses_a_weak_password_on_stdin(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_USERNAME", "chief")
    monkeypatch.setattr("sys.stdin", io.StringIO("12345678\n"))
    with pytest.raises(CommandError, match=r"^DJANGO_ADMIN_PASSWORD \(the line on stdin\) is "
                                           r"refused: This password is too short\."):
        call_command("ensure_admin", "--password-stdin")
    assert not get_user_model().objects.exists()


def test_an_admin_password_needs_twelve_characters(settings):
    from django.contrib.auth import password_validation

    assert "at least 12 characters" in password_validation.password_validators_help_text_html()


def test_ensure_admin_is_a_no_op_without_variables(monkeypatch, capsys):
    monkeypatch.delenv("DJANGO_ADMIN_USERNAME", raising=False)
    call_command("ensure_admin")
    assert not get_user_model().objects.exists()
    assert "nothing to do" in capsys.readouterr().out


def test_ensure_admin_needs_a_password(monkeypatch):
    monkeypatch.setenv("DJANGO_ADMIN_USERNAME", "chief")
    monkeypatch.delenv("DJANGO_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DJANGO_ADMIN_PASSWORD"):
        call_command("ensure_admin")


def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_schema_has_no_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
