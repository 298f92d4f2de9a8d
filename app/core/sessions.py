"""Django's database sessions, refusing session ids Django could not have issued.

A cookie can smuggle a NUL byte past the HTTP server as an escaped quoted string
(sessionid="a\\000..."); Django only checks the id's length, then PostgreSQL rejects the
lookup and every page answers 500. An id outside Django's alphabet is now simply no session.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS


class SessionStore(db.SessionStore):
    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and set(key) <= set(VALID_KEY_CHARS)
