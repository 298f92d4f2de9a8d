"""The shared cache (Valkey) as the app uses it: for speed, never for correctness, so when it
is down the site serves on without it.

django-redis turns a failed cache call into a miss or a write that did not happen
(IGNORE_EXCEPTIONS, settings.CACHES). Two things keep an outage cheap:
- FailFastRedis, its redis client: after a call the server did not answer, the process's
  calls of the next few seconds fail at once instead of each waiting for the socket
  timeouts, or for the name lookup of a cache container that is gone, which can take seconds;
- OutageLogFilter, on the logger django-redis is given (settings.DJANGO_REDIS_LOGGER): it
  logs each failed call with its traceback, several per request; one line a minute gets
  through per process, naming the error and how many lines it held back.
/readyz asks ping() (core.health).

Entries are JSON (JSONSerializer, settings.CACHES' SERIALIZER), never pickle: django-redis
unpickles what it reads by default, so anything that can write to the cache server (a
foothold in any container on its network) could have run code in web. An entry that is not
this JSON is a miss.
"""

import base64
import json
import logging
import threading
import time
import weakref

import redis
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django_redis.cache import RedisCache
from django_redis.serializers.base import BaseSerializer


class FailFastRedis(redis.Redis):
    """redis-py's client, skipping the server for `skip_seconds` after a call it did not
    answer (refused, unknown name, timed out). The first call after that tries it again, so a
    cache that is back is used again within those seconds, with no restart. Shared by every
    thread of the process (by connection pool, one per server): one thread's failed call
    spares the others, so an outage costs each process one failed call a period.
    """

    skipped_until: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # {pool: time}

    def __init__(self, *args, skip_seconds: float = 5.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_seconds = skip_seconds

    def execute_command(self, *args, **options):
        if time.monotonic() < self.skipped_until.get(self.connection_pool, 0.0):
            raise redis.ConnectionError(
                f"not tried: the cache failed less than {self.skip_seconds:g} s ago"
            )
        try:
            return super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError):
            self.skipped_until[self.connection_pool] = time.monotonic() + self.skip_seconds
            raise


class OutageLogFilter(logging.Filter):
    MESSAGE = ("cache unavailable, serving without it: %s (%d more errors since this process's "
               "last such line; one line per %d s at most)")

    def __init__(self, name: str = "", interval: float = 60.0):
        super().__init__(name)
        self.interval = interval
        self.lock = threading.Lock()  # gunicorn threads share it
        self.logged_at: float | None = None
        self.held_back = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg is self.MESSAGE:
            return True  # let through, and rewritten, by another instance (logging set up twice)
        now = time.monotonic()
        with self.lock:
            if self.logged_at is not None and now - self.logged_at < self.interval:
                self.held_back += 1
                return False
            held_back, self.held_back, self.logged_at = self.held_back, 0, now
        record.args = (error_text(record), held_back, self.interval)
        record.msg = self.MESSAGE
        record.exc_info, record.exc_text = None, None  # one line, no traceback
        return True


def error_text(record: logging.LogRecord) -> str:
    """The error in one line: django-redis's ConnectionInterrupted names the redis error."""
    if record.exc_info and record.exc_info[1] is not None:
        return str(record.exc_info[1])
    return record.getMessage()


def ping(alias: str = DEFAULT_CACHE_ALIAS) -> None:
    """Raise unless the cache server answers. Asked directly, past IGNORE_EXCEPTIONS; a cache
    in the process's memory (no CACHE_URL) always answers."""
    backend = caches[alias]
    if isinstance(backend, RedisCache):
        backend.client.get_client(write=True).ping()


# Python's types beyond JSON's that the app stores (pages: (etag, content type, bytes)), as
# one-key objects; a one-key dict of the app's whose key starts with "~" is wrapped in
# "~dict", so that it never reads as a tag.
TAGS = ("~bytes", "~tuple", "~dict")

entry_logger = logging.getLogger("core.cache.entries")


def to_json(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, tuple):
        return {"~tuple": [to_json(item) for item in value]}
    if isinstance(value, bytes):
        return {"~bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        items = {key: to_json(item) for key, item in value.items()}
        if len(items) == 1 and next(iter(items)).startswith("~"):
            return {"~dict": items}
        return items
    raise TypeError(f"the cache stores no {type(value).__name__} (core.cache.JSONSerializer)")


def from_json(value):
    if isinstance(value, list):
        return [from_json(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        tag, content = next(iter(value.items()))
        if tag == "~bytes":
            return base64.b64decode(content.encode("ascii"), validate=True)
        if tag == "~tuple":
            return tuple(from_json(item) for item in content)
        if tag == "~dict":
            return {key: from_json(item) for key, item in content.items()}
    return {key: from_json(item) for key, item in value.items()}


class JSONSerializer(BaseSerializer):
    """django-redis's serializer: JSON, with tags for bytes and tuples. Reading one cannot run
    code, whoever wrote it. (Whole numbers are stored as they are, for INCR, and never pass
    through here.) An entry it cannot read is a miss (None), logged."""

    def dumps(self, value) -> bytes:
        return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":")).encode()

    def loads(self, value: bytes):
        try:
            return from_json(json.loads(value))
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            entry_logger.warning("cache: an entry that is not the app's JSON was read as a miss"
                                 " (%s)", exc.__class__.__name__)
            return None
