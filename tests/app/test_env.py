"""library.env: environs' reader with secrets from files, empty as unset and one-line errors."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from library.env import Env


@pytest.fixture
def env():
    return Env(eager=True)


def refused(read) -> str:
    with pytest.raises(ImproperlyConfigured) as error:
        read()
    return str(error.value)


def test_a_whole_number_in_its_range_is_read_stripped(env, monkeypatch):
    monkeypatch.setenv("LIBRARY_MAX_OPEN_LOANS", " 12 ")
    assert env.whole("LIBRARY_MAX_OPEN_LOANS", 5, 1, 1000) == 12


@pytest.mark.parametrize("raw", ["many", "0", "1001", "1e3", "-3"])
def test_a_whole_number_out_of_range_is_one_line_naming_it(env, monkeypatch, raw):
    monkeypatch.setenv("LIBRARY_MAX_OPEN_LOANS", raw)
    assert refused(lambda: env.whole("LIBRARY_MAX_OPEN_LOANS", 5, 1, 1000)) == (
        f"LIBRARY_MAX_OPEN_LOANS must be a whole number from 1 to 1000 (got {raw!r})")


@pytest.mark.parametrize("raw", ["", "  "])
def test_an_empty_value_is_the_default(env, monkeypatch, raw):
    monkeypatch.setenv("LIBRARY_TOKEN_TTL", raw)
    assert env.whole("LIBRARY_TOKEN_TTL", 30, 1, 3650) == 30


def test_flags_rates_and_levels(env, monkeypatch):
    monkeypatch.setenv("DJANGO_HTTPS", "0")
    monkeypatch.setenv("LIBRARY_THROTTLE_ANON", "30/second")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert env.flag("DJANGO_HTTPS", True) is False
    assert env.rate("LIBRARY_THROTTLE_ANON", "120/minute") == "30/second"
    assert env.level("LOG_LEVEL", "INFO") == "DEBUG"
    monkeypatch.delenv("LOG_LEVEL")
    assert env.level("LOG_LEVEL", "INFO") == "INFO"


@pytest.mark.parametrize(("name", "raw", "must"), [
    ("DJANGO_HTTPS", "2", "0 or 1"),
    ("LIBRARY_THROTTLE_ANON", "0/minute", "a rate like 120/minute"),
    ("LIBRARY_THROTTLE_ANON", "120/fortnight", "a rate like 120/minute"),
    ("LOG_LEVEL", "loud", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
])
def test_a_bad_value_says_what_it_must_be(env, monkeypatch, name, raw, must):
    monkeypatch.setenv(name, raw)
    reads = {"DJANGO_HTTPS": lambda: env.flag(name, True),
             "LIBRARY_THROTTLE_ANON": lambda: env.rate(name, "120/minute"),
             "LOG_LEVEL": lambda: env.level(name, "INFO")}
    message = refused(reads[name])
    assert message.startswith(f"{name} must be {must}") and message.endswith(f"(got {raw!r})")


def test_a_secret_comes_from_its_file_stripped(env, monkeypatch, tmp_path):
    (tmp_path / "key").write_text("from-a-file\n")
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(tmp_path / "key"))
    assert env.str("DJANGO_SECRET_KEY", "") == "from-a-file"


def test_a_secret_set_both_ways_is_refused(env, monkeypatch, tmp_path):
    (tmp_path / "key").write_text("one")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "two")
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(tmp_path / "key"))
    assert refused(lambda: env.str("DJANGO_SECRET_KEY", "")) == (
        "set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE, not both")


def test_a_secret_file_that_cannot_be_used_is_named_not_echoed(env, monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    assert refused(lambda: env.database("DATABASE_URL", "sqlite:///x")) == (
        f"DATABASE_URL_FILE names {tmp_path / 'missing'}, which cannot be read"
        " (FileNotFoundError)")
    (tmp_path / "bad").write_text("postgres://u:placeholder@h:notaport/db")
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "bad"))
    message = refused(lambda: env.database("DATABASE_URL", "sqlite:///x"))
    assert message.startswith("DATABASE_URL is malformed") and "placeholder" not in message


def test_the_cache_url_comes_from_its_file_too(env, monkeypatch, tmp_path):
    """Swarm gives web CACHE_URL_FILE (compose.swarm.yaml): the URL holds the password."""
    (tmp_path / "cache_url").write_text("redis://:placeholder@cache:6379/0\n")
    monkeypatch.delenv("CACHE_URL", raising=False)
    monkeypatch.setenv("CACHE_URL_FILE", str(tmp_path / "cache_url"))
    assert env.cache("CACHE_URL")["LOCATION"] == "redis://:placeholder@cache:6379/0"


def test_origins_need_a_scheme(env, monkeypatch):
    monkeypatch.setenv("DJANGO_CSRF_TRUSTED_ORIGINS", "https://a.example, ,http://b.example")
    assert env.origins("DJANGO_CSRF_TRUSTED_ORIGINS") == ["https://a.example", "http://b.example"]
    monkeypatch.setenv("DJANGO_CSRF_TRUSTED_ORIGINS", "a.example")
    assert "must start with http:// or https://" in refused(
        lambda: env.origins("DJANGO_CSRF_TRUSTED_ORIGINS"))
