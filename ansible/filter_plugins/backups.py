"""library_backup_account: the account a database host logs in to the backup repository host
as (one per database: roles backup_repository and library), made from its stanza, which is
its inventory name: a Debian login name ("bk-" and the name in lower case, what is not a
letter, digit or "-" made "-", at most 32 characters, with a short digest of the stanza when
that changed or cut it, so two stanzas never share an account)."""

from __future__ import annotations

import hashlib
import re

PREFIX = "bk-"
MAX = 32


def library_backup_account(stanza: str) -> str:
    name = re.sub(r"[^a-z0-9-]", "-", stanza.lower())
    account = PREFIX + name
    if name == stanza and len(account) <= MAX:
        return account
    digest = hashlib.sha256(stanza.encode()).hexdigest()[:6]
    return f"{account[:MAX - 7]}-{digest}"


class FilterModule:
    def filters(self):
        return {"library_backup_account": library_backup_account}
