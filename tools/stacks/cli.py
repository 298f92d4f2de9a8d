"""stacks VERB ENV [options]: one verb per operation, each a make target of the same name
(`make deploy ENV=lab REVISION=...` runs `stacks deploy lab --revision ...`). Every input is
checked (inputs.py) before anything is contacted; a bad one is one line naming it, exit 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

import yaml

from stacks import environments, inputs, operations
from stacks.environments import ROOT, Refused


def compose_services() -> list[str]:
    """The services of compose/compose.yaml: what `logs` may be asked for."""
    return list(yaml.safe_load((ROOT / "compose" / "compose.yaml").read_text(encoding="utf-8"))["services"])


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="stacks", description=__doc__.split("\n\n")[0])
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, help_text: str, revision: bool = False) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("env", nargs="?", default="", metavar="ENV", help="a folder of deploy/ (required)")
        if revision:
            sub.add_argument("--revision", default="", help="the full git sha the image is tagged with")
        return sub

    verb("deploy", "ship REVISION to ENV, start-first, then smoke-check every host", revision=True).add_argument(
        "--digest", default="", help="the digest CI built the image as (sha256:...): hosts run exactly it")
    verb("rollback", "every host back to the release before the one it runs (or REVISION)", revision=True)
    verb("unlock", "release ENV's deploy lock, left by a run that died")
    verb("plan", "what a deploy of REVISION would do, doing nothing", revision=True)
    verb("status", "every host of ENV in one table")
    verb("prune", "old images and stopped containers off every host, keeping what a rollback needs")
    verb("backup", "a base backup of every database now").add_argument("--type", default="", help="incr, diff or full")
    restore = verb("restore", "the databases back to a time, a backup or the latest WAL (says what it would do unless --confirm yes)")
    restore.add_argument("--at", default="", help='a UTC time, "YYYY-MM-DD HH:MM:SS"')
    restore.add_argument("--backup", default="", help="a backup label")
    restore.add_argument("--confirm", default="", help="yes to restore")
    restore.add_argument("--host", default="", help="one host only")
    verb("maintenance", "the maintenance page on every host").add_argument("--state", default="", help="on or off")
    logs = verb("logs", "the services' logs of every host, merged, each line prefixed with its host")
    logs.add_argument("--service", default="", help="one service of compose.yaml")
    logs.add_argument("--since", default="", help="a duration (10m, 1h) or a UTC time; default 10m")
    logs.add_argument("--grep", default="", help="a regular expression a line must match")
    logs.add_argument("--follow", default="", help="1 to keep printing lines as they come")
    manage = verb("exec", "a manage.py command on one host, in a one-off container of the running release")
    manage.add_argument("--host", default="", help="a host of ENV's inventory")
    manage.add_argument("--cmd", default="", help='"manage.py ..."')
    new_env = verbs.add_parser("new-env", help="write deploy/NAME/ for one host, with a new vault")
    new_env.add_argument("--name", default="")
    new_env.add_argument("--host", default="")
    new_env.add_argument("--domain", default="")
    new_env.add_argument("--email", default="")
    new_env.add_argument("--repository", default="")
    new_env.add_argument("--login", default="")
    new_env.add_argument("--key", default="")
    return top


def dispatch(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Check every input of the verb, then run it."""
    if args.verb == "new-env":
        from stacks import new_env
        return new_env.main(args, environ)
    environment = environments.select(args.env, environ)
    revision = getattr(args, "revision", "")
    if revision or args.verb == "deploy":
        inputs.revision("REVISION", revision)
    variables: dict[str, str] = {}
    if args.verb == "deploy" and args.digest:
        variables = {"library_release_digest": inputs.digest("DIGEST", args.digest)}
    if args.verb == "backup":
        variables = {"library_backup_type": inputs.backup_type("TYPE", args.type or "incr")}
    elif args.verb == "restore":
        for name, value, check in (("AT", args.at, inputs.restore_time), ("BACKUP", args.backup, inputs.backup_label),
                                   ("CONFIRM", args.confirm, inputs.confirm), ("HOST", args.host, inputs.host_name)):
            if value:
                check(name, value)
        if args.at and args.backup:
            raise inputs.BadInput("AT", args.at, f"and BACKUP '{args.backup}' were both given: give one")
        variables = {"library_restore_at": args.at, "library_restore_backup": args.backup,
                     "library_restore_confirm": args.confirm, "library_restore_host": args.host}
    elif args.verb == "maintenance":
        variables = {"library_maintenance": inputs.state("STATE", args.state)}
    elif args.verb == "unlock":
        variables = {"library_unlock_force": True}
    elif args.verb == "logs":
        if args.service:
            inputs.one_of("SERVICE", args.service, compose_services(), "is not a service of compose.yaml")
        inputs.since("SINCE", args.since or "10m")
        inputs.regular_expression("GREP", args.grep)
        inputs.follow("FOLLOW", args.follow)
    elif args.verb == "exec":
        inputs.host_name("HOST", args.host)
        words = inputs.manage_command("CMD", args.cmd)
    if args.verb == "plan":
        return operations.plan(environment, environ, revision)
    if args.verb == "logs":
        return operations.logs(environment, environ, args.service, args.since or "10m", args.grep, args.follow == "1")
    if args.verb == "exec":
        return operations.exec_manage(environment, environ, args.host, words, args.cmd)
    return operations.run_playbook_verb(args.verb, environment, environ, variables, revision)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return dispatch(args, os.environ if environ is None else environ)
    except (inputs.BadInput, Refused) as error:
        print(f"{args.verb}: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"{args.verb}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
