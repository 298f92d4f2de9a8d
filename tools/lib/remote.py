#!/usr/bin/env python3
"""The part of tools/logs and tools/manage that needs a real parser: the hosts' ssh settings
from ansible/connections.yml's JSON report, and the command lines they run on a host, every word
quoted for the remote shell (shlex), so operator input reaches it only as data.

    remote.py hosts REPORT                     the inventory's host names, one a line
    remote.py ssh REPORT HOST [SSH-OPTION...]  ssh's argv for HOST, NUL-separated: ssh, the
                                               options given (the secrets' key and known hosts:
                                               ssh keeps the first value it reads), then the
                                               inventory's, then the address
    remote.py logs REPORT HOST SINCE FOLLOW [SERVICE]
                                               the compose logs command line
    remote.py manage CMD                       checks CMD (exit 2 and one line if it is bad)
    remote.py manage REPORT HOST TTY CMD       the one-off manage.py command line (TTY: 1 when
                                               stdin is a terminal)
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

# Words the shell would read as an operator (a list, a pipe, a redirection, a subshell) when
# unquoted: CMD is one manage.py command, never a shell line.
SHELL_OPERATORS = set(";|&<>()")


class BadInput(Exception):
    """Operator input that is refused; the message is the one line printed."""


def connections(report_path: str) -> dict[str, dict[str, str]]:
    """{host: its settings} from connections.yml's JSON report, in inventory order."""
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    found = {}
    for play in report.get("plays", []):
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if isinstance(result.get("msg"), dict) and "host" in result["msg"]:
                    found[host] = result["msg"]
    return found


def ssh_argv(settings: dict[str, str], options: list[str]) -> list[str]:
    """ssh to the host as ansible does: its user, port, key and ssh arguments."""
    argv = ["ssh", *options]
    if settings.get("port"):
        argv += ["-p", str(settings["port"])]
    if settings.get("user"):
        argv += ["-l", settings["user"]]
    if settings.get("key"):
        argv += ["-i", settings["key"]]
    argv += shlex.split(settings.get("common_args") or "") + shlex.split(settings.get("extra_args") or "")
    return [*argv, "-o", "ConnectTimeout=10", settings["host"]]


def compose(settings: dict[str, str], *words: str) -> str:
    """`docker compose` in the project folder (its compose files and .env are the running
    release's), as root (only root may enter the folder): one shell line, every word quoted.
    The folder and the words reach the root shell as its arguments, never as its script.
    --ansi never: no colour or cursor codes in what is read on this side."""
    return shlex.join(["sudo", "sh", "-c", 'cd "$1" && shift && exec docker compose "$@"', "library-compose",
                       settings["library_dir"], "-p", settings["library_project_name"], "--ansi", "never", *words])


def logs_command(settings: dict[str, str], since: str, follow: str, service: str = "") -> str:
    return compose(settings, "logs", "--timestamps", "--since", since,
                   *(["--follow"] if follow == "1" else []), *([service] if service else []))


def manage_words(cmd: str) -> list[str]:
    """CMD split as a shell would split it (quotes group words), checked to be one manage.py
    command."""
    lexer = shlex.shlex(cmd, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as error:  # an unclosed quote
        raise BadInput(f"CMD '{cmd}' cannot be split into words ({error})") from None
    if not words or words[0] != "manage.py":
        raise BadInput(f"CMD '{cmd}' must start with manage.py (e.g. CMD=\"manage.py showmigrations\")")
    operators = [word for word in words if word and set(word) <= SHELL_OPERATORS]
    if operators:
        raise BadInput(f"CMD '{cmd}' has the shell operator '{operators[0]}': give one manage.py command "
                       "(quote an argument that holds one)")
    return words


def manage_command(settings: dict[str, str], tty: str, cmd: str) -> str:
    """A one-off web container of the running release (no dependency started), removed after."""
    return compose(settings, "run", "--rm", "--no-deps", *([] if tty == "1" else ["-T"]),
                   "web", "python", *manage_words(cmd))


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "manage" and len(args) == 1:
        manage_words(args[0])
        return 0
    hosts = connections(args[0])
    if command == "hosts":
        print("\n".join(hosts))
        return 0
    settings = hosts[args[1]]
    if command == "ssh":
        sys.stdout.write("\0".join(ssh_argv(settings, args[2:])) + "\0")
    elif command == "logs":
        print(logs_command(settings, *args[2:]))
    elif command == "manage":
        print(manage_command(settings, *args[2:]))
    else:
        raise SystemExit(f"remote.py: unknown command {command!r}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BadInput as error:
        print(f"manage: {error}", file=sys.stderr)
        sys.exit(2)
