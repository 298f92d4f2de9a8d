"""Every input an operator gives, checked in one place. A bad one raises BadInput, whose message
is the one line the operator reads (the command prefixes its verb): the input's name, its value
quoted as given, and what it should be. Nothing is contacted or written before these checks."""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass


def shown(value: str) -> str:
    """VALUE as an error line quotes it: escaped if it holds a line break or another control
    character, so the line stays one line."""
    return value if value.isprintable() else value.encode("unicode_escape").decode("ascii")


class BadInput(Exception):
    """Operator input that is refused; exit status 2."""

    def __init__(self, name: str, value: str, why: str):
        super().__init__(f"{name} '{shown(value)}' {why}")
        self.name = name


@dataclass(frozen=True)
class Check:
    """A pattern an input must match in full, and what to say when it does not."""

    pattern: str
    why: str

    def __call__(self, name: str, value: str) -> str:
        if not re.fullmatch(self.pattern, value):
            raise BadInput(name, value, self.why)
        return value


revision = Check(r"[0-9a-f]{40}", "is not a full git sha (images are tagged with it)")
digest = Check(r"sha256:[0-9a-f]{64}", "is not an image digest (sha256: and 64 hex digits)")
environment_name = Check(r"[a-z][a-z0-9_-]{0,39}", "is not an environment name (lowercase letters, digits, - and _)")
host_name = Check(r"[A-Za-z0-9][A-Za-z0-9._-]*", "is not a host name")
backup_type = Check(r"incr|diff|full", "is not incr, diff or full")
restore_time = Check(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", 'is not a UTC time written "YYYY-MM-DD HH:MM:SS"')
backup_label = Check(r"\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?",
                     "is not a backup label (such as 20261123-101500F; make backup prints them)")
confirm = Check(r"yes", "is not yes")
state = Check(r"on|off", "is not on or off")
follow = Check(r"[01]?", "is not 1 (follow) or 0")
since = Check(r"(\d+[hms])+|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z",
              "is neither a duration like 10m, 1h, 90s nor a UTC time like 2026-11-30T10:00:00Z")
# An image repository without tag or digest: registry host[:port]/path, lowercase path parts.
repository = Check(r"[a-z0-9.-]+(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+",
                   "is not an image repository without a tag, such as ghcr.io/OWNER/library")
login = Check(r"[a-z_][a-z0-9_-]{0,31}", "is not a user name")
email = Check(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", "is not an email address")
_DNS_NAME = r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"


def domain(name: str, value: str) -> str:
    """A public DNS name with at least one dot, not an address."""
    if "." not in value or not re.fullmatch(_DNS_NAME, value) or value.replace(".", "").isdigit():
        raise BadInput(name, value, "is not a domain name (such as library.example.org)")
    return value.lower()


def address(name: str, value: str) -> str:
    """A host's address: IPv4, IPv6 or a DNS name."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not re.fullmatch(_DNS_NAME, value) or value.replace(".", "").isdigit():
        raise BadInput(name, value, "is not an IP address or a DNS name")
    return value


def regular_expression(name: str, value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise BadInput(name, value, f"is not a regular expression ({error})") from None
    return value


# Words the shell would read as an operator (a list, a pipe, a redirection, a subshell) when
# unquoted: CMD is one manage.py command, never a shell line.
SHELL_OPERATORS = set(";|&<>()")


def manage_command(name: str, value: str) -> list[str]:
    """CMD split as a shell would split it (quotes group words), checked to be one manage.py
    command."""
    lexer = shlex.shlex(value, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as error:  # an unclosed quote
        raise BadInput(name, value, f"cannot be split into words ({error})") from None
    if not words or words[0] != "manage.py":
        raise BadInput(name, value, 'must start with manage.py (e.g. CMD="manage.py showmigrations")')
    operators = [word for word in words if word and set(word) <= SHELL_OPERATORS]
    if operators:
        raise BadInput(name, value, f"has the shell operator '{operators[0]}': give one manage.py command "
                                    "(quote an argument that holds one)")
    return words


def one_of(name: str, value: str, allowed: list[str], why: str) -> str:
    """VALUE is one of ALLOWED; WHY ends the line, which then lists them."""
    if value not in allowed:
        raise BadInput(name, value, f"{why} ({' '.join(allowed)})")
    return value
