"""library_backup_account: the account a database host logs in to the backup repository host
as (one per database: roles backup_repository and library), made from its stanza, which is
its inventory name: a Debian login name ("bk-" and the name in lower case, what is not a
letter, digit or "-" made "-", at most 32 characters, with a short digest of the stanza when
that changed or cut it, so two stanzas never share an account).

And the role library's other programs about backups (roles/library/vars/main.yml names them):

- library_key_lines: keys as a file's text, one a line, each after a prefix (the known_hosts
  of the repository host, the dumps' age recipients).
- library_known_host: the repository host as known_hosts names it (with its port unless 22).
- library_backup_files: pgBackRest's settings and the repository host's keys, {name: content},
  as files.yml writes them in library_backup_dir.
- library_files_in: the names, in a folder, of those of some paths that are in it.
- library_backup_age: seconds since the newest backup ended, -1 when there is none.
- library_backup_summary: one line on a database's backups (pgBackRest's `info` of its stanza).
"""

from __future__ import annotations

import hashlib
import re

from ansible.module_utils.parsing.convert_bool import boolean
from jinja2.filters import do_int

PREFIX = "bk-"
MAX = 32


def library_backup_account(stanza: str) -> str:
    name = re.sub(r"[^a-z0-9-]", "-", stanza.lower())
    account = PREFIX + name
    if name == stanza and len(account) <= MAX:
        return account
    digest = hashlib.sha256(stanza.encode()).hexdigest()[:6]
    return f"{account[:MAX - 7]}-{digest}"


def library_key_lines(keys: list[str], prefix: str = "") -> str:
    return "".join(f"{prefix}{key.strip()}\n" for key in keys or [])


def library_known_host(address: str, port: object) -> str:
    return address if do_int(port) == 22 else f"[{address}]:{port}"


def library_backup_files(known_hosts: str, lookup, *, backup: object, dump_here: object, recipients: str) -> dict:
    """lookup: Jinja's own (passed as an argument); pgbackrest.conf.j2 renders only with
    continuous backups, the variables it names being theirs."""
    files = {}
    if boolean(backup, strict=False):
        files["pgbackrest.conf"] = lookup("ansible.builtin.template", "opt/library/backup/pgbackrest.conf.j2")
    if boolean(dump_here, strict=False):
        files["age-recipients"] = recipients
    files["known_hosts"] = known_hosts
    return files


def library_files_in(paths: list[str], folder: str) -> list[str]:
    return [path.rpartition("/")[2] for path in paths or [] if path.startswith(folder + "/")]


def library_backup_age(newest: dict, now: float) -> int:
    return int(now - newest["timestamp"]["stop"]) if newest else -1


def library_backup_summary(info: dict, host: str, age: object) -> str:
    """info: pgBackRest's `info --output=json` entry of the stanza (backup: oldest first,
    archive: the WAL ranges); age: library_backup_age of the newest."""
    backups = (info or {}).get("backup") or []
    head = f"{host}: {len(backups)} backups; "
    if not backups:
        return head + "none yet"
    return head + newest_summary(backups[-1], age) + "; " + wal_summary((info or {}).get("archive"))


def newest_summary(newest: dict, age: object) -> str:
    stored = newest["info"]["repository"]["delta"] / 1048576
    taken = newest["timestamp"]["stop"] - newest["timestamp"]["start"]
    return f"newest {newest['label']} ({newest['type']}, {stored:.1f} MiB stored, {taken} s to take, {age} s old)"


def wal_summary(archive: list[dict] | None) -> str:
    last = archive[-1] if archive else {}
    return f"WAL {last.get('min', 'none')} to {last.get('max', 'none')}"


class FilterModule:
    def filters(self):
        return {
            "library_backup_account": library_backup_account,
            "library_key_lines": library_key_lines,
            "library_known_host": library_known_host,
            "library_backup_files": library_backup_files,
            "library_files_in": library_files_in,
            "library_backup_age": library_backup_age,
            "library_backup_summary": library_backup_summary,
        }
