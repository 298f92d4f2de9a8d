"""Settings for the test suite and the benchmark (tests/app, app/bench): the app's own
settings, as deployed, with what a run on a developer's machine needs.

Both run against PostgreSQL and a Valkey (or Redis) server only (DATABASE_URL from
tools/postgres-up, CACHE_URL from tools/cache-up; tests/app/run and app/bench set them), so
their figures and results hold for production's database and cache.
"""

import os

from django.core.exceptions import ImproperlyConfigured

if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "DATABASE_URL must point at PostgreSQL: run tests/app/run or app/bench, "
        "or export DATABASE_URL=$(tools/postgres-up)"
    )
if not os.environ.get("CACHE_URL", "").startswith("redis://"):
    raise ImproperlyConfigured(
        "CACHE_URL must point at a Valkey or Redis server: run tests/app/run or app/bench, "
        "or export CACHE_URL=$(tools/cache-up)"
    )
# Set, not defaulted: a developer's own DJANGO_* variables must not change a run.
os.environ["DJANGO_DEBUG"] = "0"
os.environ["DJANGO_SECRET_KEY"] = "test-only-key-not-a-secret-" + "k" * 40
os.environ["DJANGO_HTTPS"] = "0"
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,library.example.org"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["LIBRARY_VERSION"] = "1.2.3-test"
os.environ["LIBRARY_REVISION"] = "0123456789abcdef0123456789abcdef01234567"
os.environ["LIBRARY_BUILT"] = "2026-01-02T03:04:05Z"

from library.settings import *  # noqa: E402,F403

# No collectstatic first (it would write into the tree): static files come from the finders
# (app/static, packages) instead of a collected STATIC_ROOT. The manifest storage that
# production uses is checked in its own test.
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, never deployed
# Throttling stays on, as deployed, with rates no test or benchmark reaches by accident; the
# throttling tests lower them.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    "anon": "100000/minute", "user": "100000/minute", "login": "100000/minute"}}
