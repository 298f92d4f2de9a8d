"""The settings' environment reader: environs, with what the deployment adds to it.

- NAME, or the content of the file NAME_FILE names, never both (Docker and Swarm secrets are
  files under /run/secrets: a secret in a file is not in the container's environment, which
  `docker inspect` shows). A file that cannot be used is named, its content never echoed.
- An empty value is an unset one (compose renders an unset ${VAR:-} as ""), and values are
  stripped.
- A bad value is one ImproperlyConfigured line naming the variable and what it must be
  (manage.py and wsgi.py print it alone); a secret's value is never in it.
"""

import os
import re
import urllib.parse

import dj_database_url
import environs
from django.core.exceptions import ImproperlyConfigured
from marshmallow import ValidationError
from marshmallow.validate import Range, Regexp

RATE = Regexp(r"0*[1-9][0-9]*/(second|minute|hour|day)\Z")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Env(environs.Env):
    # environs' one hook for where a variable's value comes from (its FileAwareEnv uses it too).
    def _get_value(self, env_key, default):
        path = os.environ.get(f"{env_key}_FILE", "").strip()
        value = os.environ.get(env_key, "").strip()
        if path and value:
            raise ImproperlyConfigured(f"set {env_key} or {env_key}_FILE, not both")
        if path:
            return read_secret_file(f"{env_key}_FILE", path)
        return value or default

    def checked(self, kind, name, default, must, **kwargs):
        """environs' `kind` reader; a value it refuses stops start-up with one line."""
        try:
            return getattr(self, kind)(name, default, **kwargs)
        except environs.EnvError:
            got = os.environ.get(name, "").strip()
            raise ImproperlyConfigured(f"{name} must be {must} (got {got!r})") from None

    def whole(self, name, default, low, high) -> int:
        return self.checked("int", name, default, f"a whole number from {low} to {high}",
                            validate=Range(low, high))

    def flag(self, name, default) -> bool:
        return self.checked("bool", name, default, "0 or 1")

    def rate(self, name, default) -> str:
        """A DRF throttle rate, "N/second|minute|hour|day"."""
        return self.checked("str", name, default, "a rate like 120/minute (a count per second, "
                            "minute, hour or day)", validate=RATE)

    def level(self, name, default) -> str:
        return self.checked("str", name, default, f"one of {', '.join(LOG_LEVELS)}",
                            validate=one_of_any_case(LOG_LEVELS)).upper()

    def names(self, name, default=()) -> list[str]:
        return [item.strip() for item in self.list(name, list(default)) if item.strip()]

    def origins(self, name) -> list[str]:
        origins = self.names(name)
        for origin in origins:
            if not origin.startswith(("http://", "https://")):
                raise ImproperlyConfigured(
                    f"{name} entries must start with http:// or https:// (got {origin!r})")
        return origins

    def database(self, name, default) -> dict:
        """A database URL as dj-database-url reads it (NAME_FILE works: it holds a password)."""
        url = self.str(name, default)
        try:
            config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the same operator error
            # The URL holds a password: name the problem, never echo the value.
            raise ImproperlyConfigured(
                f"{name} is malformed ({exc.__class__.__name__}); expected a URL like "
                "postgres://USER:PASSWORD@HOST:5432/NAME") from None
        if not config.get("ENGINE") or not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} is malformed (no database name)")
        if config["ENGINE"] == "django.db.backends.postgresql":
            # An unreachable server must fail /readyz quickly, not hang the probe.
            config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        return config

    def cache(self, name) -> dict:
        """The cache a URL names (Valkey, or Redis: the same protocol; NAME_FILE works), or,
        unset, a cache in this process's memory, so a local run needs nothing but Python."""
        url = self.str(name, "")
        if not url:
            return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                    "LOCATION": "library"}
        problem = cache_url_problem(url)
        if problem:
            # The URL may hold a password: name the problem, never echo the value.
            raise ImproperlyConfigured(
                f"{name} is malformed ({problem}); expected a URL like redis://HOST:6379/0")
        return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url}


def one_of_any_case(choices):
    def validate(value: str) -> None:
        if value.upper() not in choices:
            raise ValidationError("not one of the choices")
    return validate


def read_secret_file(variable: str, path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            value = file.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(
            f"{variable} names {path}, which cannot be read ({exc.__class__.__name__})"
        ) from None
    if not value:
        raise ImproperlyConfigured(f"{variable} names {path}, which is empty")
    return value


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
    if not re.fullmatch(r"[0-9]*", parts.path.strip("/")):
        return "the database must be a number"
    return ""


env = Env(eager=True)
