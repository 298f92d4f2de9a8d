"""Read typed settings from environment variables; a bad value names its variable."""

import logging
import os
import urllib.parse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def get_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1 (got {raw!r})")


def get_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or list(default or [])


def get_origins(name: str) -> list[str]:
    origins = get_list(name)
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"{name} entries must start with http:// or https:// (got {origin!r})"
            )
    return origins


def get_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def get_secret(name: str, default: str = "") -> str:
    """NAME's value, or the content of the file NAME_FILE names (Docker and Swarm secrets are
    files under /run/secrets: a secret in a file is not in the container's environment, which
    `docker inspect` shows to anyone who may use the engine). Never echoed in an error."""
    path = get_str(f"{name}_FILE")
    if not path:
        return get_str(name, default)
    if get_str(name):
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    try:
        with open(path, encoding="utf-8") as file:
            value = file.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(
            f"{name}_FILE names {path}, which cannot be read ({exc.__class__.__name__})"
        ) from None
    if not value:
        raise ImproperlyConfigured(f"{name}_FILE names {path}, which is empty")
    return value


def get_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = get_str(name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number from {minimum} to {maximum} (got {raw!r})"
        )
    return value


def get_rate(name: str, default: str) -> str:
    """A DRF throttle rate, "N/second|minute|hour|day"."""
    raw = get_str(name, default)
    count, _, period = raw.partition("/")
    if not (count.isdigit() and int(count) > 0 and period in {"second", "minute", "hour", "day"}):
        raise ImproperlyConfigured(
            f"{name} must be a rate like 120/minute "
            f"(a count per second, minute, hour or day; got {raw!r})"
        )
    return raw


def get_log_level(name: str, default: str = "INFO") -> str:
    level = get_str(name, default).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ImproperlyConfigured(
            f"{name} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got {level!r})"
        )
    return level


def get_database(name: str, default: str) -> dict:
    url = get_secret(name, default)  # it holds the password: NAME_FILE works too
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the same operator error
        # The URL holds a password: name the problem, never echo the value.
        raise ImproperlyConfigured(
            f"{name} is malformed ({exc.__class__.__name__}); expected a URL like "
            "postgres://USER:PASSWORD@HOST:5432/NAME"
        ) from None
    if not config.get("ENGINE") or not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} is malformed (no database name)")
    if config["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable server must fail /readyz quickly, not hang the probe.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return config


def get_cache(name: str) -> dict:
    """The cache a URL names (Valkey, or Redis: the same protocol), or, when the variable is
    unset, a cache in this process's memory, so a local run needs nothing but Python."""
    url = get_str(name)
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "library"}
    problem = cache_url_problem(url)
    if problem:
        # The URL may hold a password: name the problem, never echo the value.
        raise ImproperlyConfigured(
            f"{name} is malformed ({problem}); expected a URL like redis://HOST:6379/0"
        )
    return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url}


def cache_url_problem(url: str) -> str:
    """What is wrong with a cache URL as redis-py would read it ("" when nothing is)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # a port that is no number (or above 65535) raises
    except ValueError:
        return "bad host or port"
    if parts.scheme not in ("redis", "rediss", "unix"):
        return "the scheme must be redis, rediss or unix"
    if parts.scheme == "unix":
        return "" if parts.path else "no socket path"
    if not parts.hostname:
        return "no host"
    if port == 0:
        return "bad host or port"
    database = parts.path.strip("/")
    if database and not database.isdigit():
        return "the database must be a number"
    return ""
