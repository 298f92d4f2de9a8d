"""A token that changes whenever some data changes, for the pages cached under it
(core.page_cache): none is read after a change.

The token is a PostgreSQL sequence's last value, so every worker of every host that uses the
database sees a change the moment it is made, as they see the data: each host has a cache of
its own, and a token kept there would tell the other hosts nothing. Reading it is one small
query, and no write. Where the database is not PostgreSQL (make run's SQLite, one process),
the token is a random one kept in the cache.
"""

import logging
import re
import secrets

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

SEQUENCE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class Version:
    def __init__(self, sequence: str):
        """`sequence`: the name of the PostgreSQL sequence a migration made for it."""
        if not SEQUENCE_NAME.match(sequence):
            raise ValueError(f"not a plain sequence name: {sequence!r}")
        self.sequence = sequence
        # The token this process read last. While the database does not answer, nothing can
        # change it, so pages stored under it are still the data's.
        self.last_read = None

    def current(self) -> str:
        try:
            token = self._read()
        except DatabaseError:
            if self.last_read is None:
                raise
            logger.warning("%s: the database does not answer: pages are served as they were"
                           " at its last token", self.sequence)
            return self.last_read
        self.last_read = token
        return token

    def bump(self) -> None:
        if connection.vendor != "postgresql":
            cache.set(self.sequence, secrets.token_hex(8), timeout=None)
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [self.sequence])

    def changed(self) -> None:
        """Call on every change to the data. The token moves at once and again when the
        transaction commits: a page rendered meanwhile by another request read the data as it
        was before the commit, and its key must die with it. (The sequence moves whether the
        transaction commits or not: a needless new token costs a cache miss, nothing else.)"""
        self.bump()
        if connection.in_atomic_block:
            transaction.on_commit(self.bump, robust=True)

    def _read(self) -> str:
        if connection.vendor != "postgresql":
            cache.add(self.sequence, secrets.token_hex(8), timeout=None)
            return cache.get(self.sequence) or secrets.token_hex(8)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_value FROM {self.sequence}")  # a checked name
            return str(cursor.fetchone()[0])
