"""tools/stacks/inputs.py, the one place every operator input is checked: each check is called
directly with good and bad values, and a refusal's message is the line the operator reads
("NAME 'value' why"). Plain function calls: no process, no file, no host."""

from __future__ import annotations

import pytest
from stacks import inputs

SHA = "0123456789abcdef0123456789abcdef01234567"


def refused(check, value, *args) -> str:
    """The message CHECK gives VALUE, which it must refuse."""
    with pytest.raises(inputs.BadInput) as caught:
        check("NAME", value, *args)
    assert caught.value.name == "NAME"
    return str(caught.value)


def test_a_refusal_names_the_input_and_quotes_its_value_as_given():
    assert refused(inputs.revision, "main") == "NAME 'main' is not a full git sha (images are tagged with it)"


@pytest.mark.parametrize("value", ["main", SHA[:12], "", SHA + "0", SHA.upper(), "v1.0.0", f"{SHA}\n"])
def test_a_revision_is_a_full_lowercase_git_sha(value):
    assert inputs.revision("REVISION", SHA) == SHA
    refused(inputs.revision, value)


@pytest.mark.parametrize("value", ["", "1h;touch x", "10", "10d", "yesterday", "2026-11-30", "2026-11-30T10:00:00",
                                   "$(id)", "-1h", "10m; id"])
def test_a_since_is_a_duration_or_a_utc_time_and_nothing_else(value):
    for good in ("10m", "1h30m", "90s", "2026-11-30T10:00:00Z", "2026-11-30T10:00:00.5Z"):
        assert inputs.since("SINCE", good) == good
    assert refused(inputs.since, value).startswith(f"NAME '{value}' is neither a duration like 10m")


def test_a_grep_must_compile_as_a_regular_expression():
    assert inputs.regular_expression("GREP", r'"GET /api/v1/books/\d+"') == r'"GET /api/v1/books/\d+"'
    assert refused(inputs.regular_expression, "(unclosed").startswith("NAME '(unclosed' is not a regular expression (")


@pytest.mark.parametrize(("check", "good", "bad"), [
    (inputs.follow, ["", "0", "1"], ["yes", "2", "11"]),
    (inputs.state, ["on", "off"], ["", "ON", "on;id"]),
    (inputs.confirm, ["yes"], ["y", "YES", "yes "]),
    (inputs.backup_type, ["incr", "diff", "full"], ["weekly", "", "full;id"]),
    (inputs.restore_time, ["2026-11-23 10:15:00"], ["yesterday", "2026-11-23 10:15:00; rm -rf /", "2026-11-23"]),
    (inputs.backup_label, ["20261123-101500F", "20261123-101500F_20261124-101500I"], ['latest"', "20261123"]),
    (inputs.host_name, ["lab-1", "web1.example.org"], ["", "web1;id", "-oProxyCommand=id", "web 1", "lab-1;touch x"]),
    (inputs.environment_name, ["lab", "my-env_2"], ["", "Lab", "../x", "lab;id", "x" * 41]),
    (inputs.login, ["root", "debian"], ["Root", "a b", "1x"]),
    (inputs.repository, ["ghcr.io/owner/library", "registry.example.org:5000/you/library"],
     ["ghcr.io/Owner/library", "ghcr.io/owner/library:latest", "library"]),
    (inputs.email, ["ops@example.org"], ["nobody", "a@b", "x'y@example.org"]),
])
def test_each_check_takes_its_values_and_refuses_others(check, good, bad):
    for value in good:
        assert check("NAME", value) == value
    for value in bad:
        assert refused(check, value).startswith(f"NAME '{value}' ")


def test_a_domain_is_a_dns_name_with_a_dot_and_not_an_address():
    assert inputs.domain("DOMAIN", "Library.Example.org") == "library.example.org"
    for bad in ("localhost", "-bad.example", "1.2.3.4", "a_b.example", "bad-.example"):
        assert refused(inputs.domain, bad) == f"NAME '{bad}' is not a domain name (such as library.example.org)"


def test_an_address_is_an_ip_address_or_a_dns_name():
    assert inputs.address("HOST", "203.0.113.10") == "203.0.113.10"
    assert inputs.address("HOST", "2001:db8::1") == "2001:db8::1"
    assert inputs.address("HOST", "server.example.org") == "server.example.org"
    for bad in ("not a host!", "1.2.3.4.5", "", "-x.example", "a;b"):
        assert refused(inputs.address, bad) == f"NAME '{bad}' is not an IP address or a DNS name"


def test_one_of_lists_what_is_allowed():
    assert inputs.one_of("SERVICE", "web", ["web", "db"], "is not a service") == "web"
    assert refused(inputs.one_of, "WEB", ["web", "db"], "is not a service") == "NAME 'WEB' is not a service (web db)"


def test_a_cmd_is_split_as_a_shell_would_and_an_operator_in_quotes_is_data():
    assert inputs.manage_command("CMD", "manage.py shell -c 'a; b | c' --verbosity \"2\"") == [
        "manage.py", "shell", "-c", "a; b | c", "--verbosity", "2"]
    assert inputs.manage_command("CMD", "manage.py check $HOME `id`") == ["manage.py", "check", "$HOME", "`id`"]


@pytest.mark.parametrize(("value", "why"), [
    ("", "must start with manage.py"),
    ("migrate", "must start with manage.py"),
    ("python manage.py check", "must start with manage.py"),
    ("manage.py check; rm -rf /", "has the shell operator ';'"),
    ("manage.py check|sh", "has the shell operator '|'"),
    ("manage.py check && id", "has the shell operator '&&'"),
    ("manage.py check &", "has the shell operator '&'"),
    ("manage.py check <in", "has the shell operator '<'"),
    ("manage.py dumpdata > /etc/passwd", "has the shell operator '>'"),
    ("manage.py shell -c $(id)", "has the shell operator '('"),
    ("manage.py (check)", "has the shell operator '('"),
    ("manage.py shell -c 'unclosed", "cannot be split into words"),
])
def test_a_cmd_that_is_not_one_manage_py_command_is_refused(value, why):
    assert refused(inputs.manage_command, value).startswith(f"NAME '{value}' {why}")


@pytest.mark.parametrize("value", ["sha256:" + "a" * 63, "sha256:" + "A" * 64, "sha512:" + "a" * 64, "a" * 64,
                                   "sha256:" + "a" * 64 + "; id"])
def test_a_digest_is_sha256_and_64_hex_digits(value):
    assert "is not an image digest" in refused(inputs.digest, value)


def test_a_good_digest_is_taken_as_given():
    assert inputs.digest("DIGEST", "sha256:" + "0a" * 32) == "sha256:" + "0a" * 32
