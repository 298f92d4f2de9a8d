"""Settings of the library service, read from environment variables (see the README contract).

Every value an operator can get wrong is validated here and raises ImproperlyConfigured
naming the variable; manage.py and wsgi.py turn that into one line on stderr.
"""

from pathlib import Path

from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from library.env import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.flag("DJANGO_DEBUG", False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", "")  # or DJANGO_SECRET_KEY_FILE
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.names(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.origins("DJANGO_CSRF_TRUSTED_ORIGINS")

# Behind the TLS-terminating proxy: trust its X-Forwarded-Proto, redirect to HTTPS, secure cookies.
HTTPS = env.flag("DJANGO_HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Submitting a domain to browsers' HSTS preload lists is the domain owner's decision, not ours.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_prometheus",
    "core",
    "catalog",
    "circulation",
]

MIDDLEWARE = [
    # First and last: django-prometheus counts every request, and times it with and without
    # the middlewares (by view and status in the last one).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # A request id and one log line for every request, probes included.
    "core.request_log.RequestLogMiddleware",
    # Bodies over LIBRARY_MAX_BODY_BYTES (413) and multipart ones (415) are refused before
    # anything reads them (CSRF and the sign-in forms read forms of anonymous clients).
    "core.request_body.RequestBodyMiddleware",
    # Probes and /metrics answer before host validation and SSL redirect (any Host, plain HTTP).
    "core.health.HealthEndpointsMiddleware",
    "core.metrics.MetricsEndpointMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Content-Security-Policy on every response (django-csp). Pages load scripts, styles, images
# and fonts from this origin only, run no inline script and apply no inline style unless it
# carries the response's nonce, and may not be framed. The Swagger UI page loads its init
# script from /api/docs/?script (drf-spectacular's split view); the browsable API's pages
# allow style attributes (api.renderers). `data:` images: the admin's and Swagger UI's
# stylesheets embed their icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.NONE],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "base-uri": [csp.NONE],
    }
}

ROOT_URLCONF = "library.urls"
WSGI_APPLICATION = "library.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# The same backends wrapped by django-prometheus, which counts and times every query
# (/metrics: django_db_execute_total, django_db_query_duration_seconds).
DATABASE_ENGINES_WITH_METRICS = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
DATABASES["default"]["ENGINE"] = DATABASE_ENGINES_WITH_METRICS.get(
    DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"]
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache (Valkey, the compose service `cache`): DRF's throttle counters, sessions
# (core.sessions) and cached pages, so a read request writes nothing to PostgreSQL. It is
# shared by every worker of a host; each host has its own (a client's rate is counted per
# host). No CACHE_URL (make run): a cache in the process's memory, nothing to install.
# Fail-open: a cache that does not answer within the timeouts is a miss and a write that did
# not happen (django-redis IGNORE_EXCEPTIONS), and is not asked again for a few seconds:
# throttling lets requests through, sessions come from the database, pages are rendered
# afresh; the outage is logged once a minute per process (core.cache) and /readyz says
# "cache": "degraded" while staying 200 (core.health).
CACHES = {"default": env.cache("CACHE_URL")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    CACHES["default"]["OPTIONS"] = {
        "IGNORE_EXCEPTIONS": True,
        # Seconds. A cache on the host's own network connects in well under a millisecond:
        # these bound what a hung or unreachable one adds to a call.
        "SOCKET_CONNECT_TIMEOUT": 0.25,
        "SOCKET_TIMEOUT": 0.25,
        # After a failed call, the calls of the next seconds fail at once (core.cache).
        "REDIS_CLIENT_CLASS": "core.cache.FailFastRedis",
        "REDIS_CLIENT_KWARGS": {"skip_seconds": 5},
        # JSON, not django-redis's default pickle: whatever can write to the cache server
        # must not be able to run code here by planting an entry (core.cache).
        "SERIALIZER": "core.cache.JSONSerializer",
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "core.cache"
# The same backends wrapped by django-prometheus, which counts gets, hits, misses and failed
# gets (/metrics: django_cache_get_total, django_cache_get_fail_total, ...).
CACHE_BACKENDS_WITH_METRICS = {
    "django_redis.cache.RedisCache": "django_prometheus.cache.backends.redis.RedisCache",
    "django.core.cache.backends.locmem.LocMemCache":
        "django_prometheus.cache.backends.locmem.LocMemCache",
}
CACHES["default"]["BACKEND"] = CACHE_BACKENDS_WITH_METRICS[CACHES["default"]["BACKEND"]]

# Every password set through Django (the admin, `manage.py ensure_admin`, changepassword).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Django's cached database sessions (read from the cache, the database is the record), minus
# session ids it could not have issued (core.sessions).
SESSION_ENGINE = "core.sessions"

LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "catalog:book-list"

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes "not signed in" a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Anyone reads; writing a model needs its add/change/delete permission (is_staff alone,
    # which only opens the admin, is not enough).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.DjangoModelPermissionsOrAnonReadOnly"
    ],
    # DRF's defaults, with a JSON parser that survives deep nesting (api.parsers), minus
    # multipart: the app takes no uploads (core.request_body refuses them on every path).
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",  # the browsable API's forms (api.renderers)
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api.filters.SearchFilter",
        "api.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.AnonThrottle", "core.throttling.UserThrottle"],
    # Per client and per host (each host counts in its own cache). Sign-ins stay at 10/minute
    # whatever the deployment says: they are where passwords are guessed.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.rate("LIBRARY_THROTTLE_ANON", "120/minute"),
        "user": env.rate("LIBRARY_THROTTLE_USER", "600/minute"),
        "login": "10/minute",
    },
    # Clients reach us through one proxy (Caddy): the last X-Forwarded-For entry is theirs.
    "NUM_PROXIES": 1,
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stacks library API",
    "DESCRIPTION": "The library's catalogue (books, authors, copies) and circulation (loans).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOG_LEVEL = env.level("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.request_log.RequestIdFilter"},
        "cache_outage": {"()": "core.cache.OutageLogFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Our middleware writes the request log; Django's own per-request lines would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        # Scanners probing by IP would each leave a traceback; the request log has the 400.
        "django.security.DisallowedHost": {"level": "CRITICAL"},
        # The cache's failed calls (django-redis): one line a minute, not a traceback each.
        "core.cache": {"filters": ["cache_outage"]},
    },
}

# Build information baked into the image, reported by /version.
LIBRARY_VERSION = env.str("LIBRARY_VERSION", "unknown")
LIBRARY_REVISION = env.str("LIBRARY_REVISION", "unknown")
LIBRARY_BUILT = env.str("LIBRARY_BUILT", "unknown")

LOAN_PERIOD_DAYS = 21
# The largest request body read, in bytes (core.request_body: 413 beyond it, before anything
# reads it). Django's own limits are the same number, and no upload handler writes to disk:
# multipart bodies are refused anyway, this is the second lock.
LIBRARY_MAX_BODY_BYTES = env.whole("LIBRARY_MAX_BODY_BYTES", 1024 * 1024, 1024, 100 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = LIBRARY_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = LIBRARY_MAX_BODY_BYTES
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

# Days an API token works after it is issued (core.auth).
LIBRARY_TOKEN_TTL = env.whole("LIBRARY_TOKEN_TTL", 30, 1, 3650)
# Open loans one borrower may hold at once; checkout beyond it is refused (409).
LIBRARY_MAX_OPEN_LOANS = env.whole("LIBRARY_MAX_OPEN_LOANS", 5, 1, 1000)
