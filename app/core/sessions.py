"""Django's cached database sessions, minus session ids Django could not have issued.

cached_db: a session is read from the shared cache and written to both, so a read request
costs PostgreSQL nothing, while the database stays the record: a lost or flushed cache logs
nobody out (the next read fetches the session from the database and caches it again), and
with the cache down sessions are read from the database alone (core.cache).

A cookie can smuggle a NUL byte past the HTTP server as an escaped quoted string
(sessionid="a\\000..."); Django only checks the id's length, then PostgreSQL rejects the
lookup and every page answers 500. An id outside Django's alphabet is now simply no session.
"""

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS


class SessionStore(cached_db.SessionStore):
    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and set(key) <= set(VALID_KEY_CHARS)
