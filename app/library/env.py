"""Read typed settings from environment variables; a bad value names its variable."""

import logging
import os

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


def get_log_level(name: str, default: str = "INFO") -> str:
    level = get_str(name, default).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ImproperlyConfigured(
            f"{name} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (got {level!r})"
        )
    return level


def get_database(name: str, default: str) -> dict:
    url = get_str(name, default)
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
