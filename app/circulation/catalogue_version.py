"""The catalogue's version: one token for everything the catalogue's pages and the books API
show (books, their authors, copies, loans), moved on every change to any of them, so the
pages cached under it (core.page_cache) are never served stale. It is the sequence
circulation_catalogue_version (migration 0002), shared by every host (core.data_version).

Changes are seen through model signals: saves and deletes (the API, the admin, the
circulation services, loaddata) and changes to a book's authors. bulk_create and
QuerySet.update() send none: code that uses them calls CATALOGUE.changed() itself
(seed_library does).
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog.models import Author, Book
from circulation.models import Copy, Loan
from core.data_version import Version

CATALOGUE = Version("circulation_catalogue_version")


def catalogue_changed(sender, action=None, **kwargs) -> None:
    if action and action.startswith("pre_"):  # m2m_changed: its post_ signal follows
        return
    CATALOGUE.changed()


def watch_catalogue() -> None:
    """Connect the signals (CirculationConfig.ready)."""
    for model in (Book, Author, Copy, Loan):
        uid = f"catalogue-version-{model._meta.label_lower}"
        post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"{uid}-delete")
    m2m_changed.connect(catalogue_changed, sender=Book.authors.through,
                        dispatch_uid="catalogue-version-book-authors")
