"""Start-up configuration errors and the deployment check, in real subprocesses."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "app"
GOOD_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "library.example.org",
    "DATABASE_URL": "postgres://library:placeholder@db.example.invalid:5432/library",
}


def run_app(args, **env):
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_URL", "CACHE_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "library.settings", "LOG_LEVEL": "WARNING"})
    merged = {**base, **GOOD_ENV, **env}
    merged = {k: v for k, v in merged.items() if v is not None}
    return subprocess.run(
        [sys.executable, *args], cwd=APP_DIR, env=merged, capture_output=True, text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DATABASE_URL": "postgres://u:p@h:notaport/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"DJANGO_HTTPS": "2"}, "DJANGO_HTTPS"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": "library.example.org"}, "DJANGO_CSRF_TRUSTED_ORIGINS"),
        ({"LIBRARY_MAX_OPEN_LOANS": "many"}, "LIBRARY_MAX_OPEN_LOANS"),
        ({"LIBRARY_MAX_OPEN_LOANS": "0"}, "LIBRARY_MAX_OPEN_LOANS"),
        ({"LIBRARY_MAX_OPEN_LOANS": "-3"}, "LIBRARY_MAX_OPEN_LOANS"),
        ({"LIBRARY_TOKEN_TTL": "30d"}, "LIBRARY_TOKEN_TTL"),
        ({"LIBRARY_TOKEN_TTL": "0"}, "LIBRARY_TOKEN_TTL"),
        ({"LIBRARY_MAX_BODY_BYTES": "1M"}, "LIBRARY_MAX_BODY_BYTES"),
        ({"LIBRARY_MAX_BODY_BYTES": "0"}, "LIBRARY_MAX_BODY_BYTES"),
        ({"LIBRARY_MAX_BODY_BYTES": "1e6"}, "LIBRARY_MAX_BODY_BYTES"),
        ({"LIBRARY_THROTTLE_ANON": "120"}, "LIBRARY_THROTTLE_ANON"),
        ({"LIBRARY_THROTTLE_USER": "0/minute"}, "LIBRARY_THROTTLE_USER"),
        ({"LIBRARY_THROTTLE_USER": "600/fortnight"}, "LIBRARY_THROTTLE_USER"),
        ({"CACHE_URL": "cache:6379"}, "CACHE_URL"),
        ({"CACHE_URL": "memcached://cache:11211"}, "CACHE_URL"),
        ({"CACHE_URL": "redis://:placeholder@cache:notaport/0"}, "CACHE_URL"),
        ({"CACHE_URL": "redis://:placeholder@/0"}, "CACHE_URL"),
        ({"CACHE_URL": "redis://:placeholder@cache:6379/sessions"}, "CACHE_URL"),
    ],
)
def test_bad_configuration_stops_manage_py_with_one_line(env, variable):
    result = run_app(["manage.py", "check"], **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "placeholder" not in result.stderr  # a database or cache password is never echoed


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DJANGO_SECRET_KEY": None, "DJANGO_SECRET_KEY_FILE": "/nonexistent/secret"},
         "DJANGO_SECRET_KEY_FILE names /nonexistent/secret, which cannot be read"
         " (FileNotFoundError)"),
        ({"DJANGO_SECRET_KEY": None, "DJANGO_SECRET_KEY_FILE": "/dev/null"},
         "DJANGO_SECRET_KEY_FILE names /dev/null, which is empty"),
        ({"DATABASE_URL": None, "DATABASE_URL_FILE": "/dev/null"},
         "DATABASE_URL_FILE names /dev/null, which is empty"),
    ],
)
def test_a_secret_file_that_cannot_be_used_stops_start_up_naming_it(env, says):
    result = run_app(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"configuration error: {says}"]


def test_a_secret_set_twice_is_refused(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(secrets.token_urlsafe(50))
    result = run_app(["manage.py", "check"], DJANGO_SECRET_KEY_FILE=str(secret))
    assert result.stderr.strip().splitlines() == [
        "configuration error: set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE, not both"]


def test_secrets_are_read_from_files(tmp_path):
    key, url = tmp_path / "secret_key", tmp_path / "database_url"
    key.write_text(GOOD_ENV["DJANGO_SECRET_KEY"] + "\n")
    url.write_text("postgres://library:from-a-file@db.example.invalid:5432/files\n")
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "db = s.DATABASES['default']; print(s.SECRET_KEY, db['PASSWORD'], db['NAME'])")
    result = run_app(["-c", code], DJANGO_SECRET_KEY=None, DATABASE_URL=None,
                     DJANGO_SECRET_KEY_FILE=str(key), DATABASE_URL_FILE=str(url))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [GOOD_ENV["DJANGO_SECRET_KEY"], "from-a-file", "files"]


def test_bad_configuration_stops_the_wsgi_app_with_one_line():
    result = run_app(["-c", "import django, library.wsgi"], DJANGO_SECRET_KEY=None)
    assert result.returncode == 3  # gunicorn halts instead of respawning workers
    assert result.stderr.strip().splitlines() == [
        "configuration error: DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off"
    ]


def test_debug_mode_needs_no_secret_key():
    result = run_app(["manage.py", "check"], DJANGO_SECRET_KEY=None, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_https():
    result = run_app(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                     DJANGO_HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_switch_sets_the_secure_settings():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER)"
    )
    on = run_app(["-c", code], DJANGO_HTTPS="1")
    assert on.stdout.split() == [
        "True", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')"
    ]
    off = run_app(["-c", code], DJANGO_HTTPS="0")
    assert off.stdout.split() == ["False", "False", "False", "False", "None"]


def test_production_static_files_are_collected_and_served(tmp_path):
    code = (
        "import sys, django; from django.conf import settings; django.setup(); "
        "settings.STATIC_ROOT = sys.argv[1]; "
        "from django.core.management import call_command; "
        "call_command('collectstatic', '--noinput', verbosity=0); "
        "from django.contrib.staticfiles.storage import staticfiles_storage as s; "
        "print(s.url('library/site.css'))"
    )
    result = run_app(["-c", code, str(tmp_path)])
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("/static/library/site.") and url.endswith(".css") and url.count(".") == 2
    assert (tmp_path / url.removeprefix("/static/")).is_file()
    assert (tmp_path / (url.removeprefix("/static/") + ".gz")).is_file()
    assert (tmp_path / "drf_spectacular_sidecar" / "swagger-ui-dist").is_dir()


def test_loan_limit_defaults_to_five_and_reads_its_variable():
    code = "import django; django.setup(); from django.conf import settings as s; " \
           "print(s.LIBRARY_MAX_OPEN_LOANS)"
    assert run_app(["-c", code], LIBRARY_MAX_OPEN_LOANS=None).stdout.strip() == "5"
    assert run_app(["-c", code], LIBRARY_MAX_OPEN_LOANS=" 12 ").stdout.strip() == "12"


def test_token_ttl_defaults_to_thirty_days_and_reads_its_variable():
    code = "import django; django.setup(); from django.conf import settings as s; " \
           "print(s.LIBRARY_TOKEN_TTL)"
    assert run_app(["-c", code], LIBRARY_TOKEN_TTL=None).stdout.strip() == "30"
    assert run_app(["-c", code], LIBRARY_TOKEN_TTL="90").stdout.strip() == "90"


def test_body_limit_defaults_to_one_mib_and_sets_djangos_limits():
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.LIBRARY_MAX_BODY_BYTES, s.DATA_UPLOAD_MAX_MEMORY_SIZE, "
            "s.FILE_UPLOAD_MAX_MEMORY_SIZE, *s.FILE_UPLOAD_HANDLERS)")
    memory_only = "django.core.files.uploadhandler.MemoryFileUploadHandler"
    default = run_app(["-c", code], LIBRARY_MAX_BODY_BYTES=None)
    assert default.stdout.split() == ["1048576"] * 3 + [memory_only], default.stderr
    assert run_app(["-c", code], LIBRARY_MAX_BODY_BYTES="65536").stdout.split() == [
        "65536"] * 3 + [memory_only]


CACHE_SETTINGS = ("import django; django.setup(); from django.conf import settings as s; "
                  "c = s.CACHES['default']; print(c['BACKEND'], c['LOCATION'], "
                  "c.get('OPTIONS', {}).get('IGNORE_EXCEPTIONS'))")


def test_the_cache_is_the_server_cache_url_names_failing_open():
    result = run_app(["-c", CACHE_SETTINGS], CACHE_URL="redis://cache:6379/0")
    assert result.stdout.split() == [
        "django_prometheus.cache.backends.redis.RedisCache", "redis://cache:6379/0", "True"]


def test_without_cache_url_the_cache_is_in_the_process_memory():
    """make run (app/run-dev) sets none: a local run needs no cache server."""
    result = run_app(["-c", CACHE_SETTINGS], CACHE_URL=None)
    assert result.stdout.split() == [
        "django_prometheus.cache.backends.locmem.LocMemCache", "library", "None"]
    assert "unset DATABASE_URL CACHE_URL" in (APP_DIR / "run-dev").read_text()


def test_throttle_rates_come_from_the_environment():
    script = ("from django.conf import settings; "
              "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])")
    result = run_app(["-c", "import django; django.setup(); " + script],
                     LIBRARY_THROTTLE_ANON="30/second", LIBRARY_THROTTLE_USER="5000/hour")
    assert result.returncode == 0, result.stderr
    rates = "{'anon': '30/second', 'user': '5000/hour', 'login': '10/minute'}"
    assert result.stdout.strip() == rates
