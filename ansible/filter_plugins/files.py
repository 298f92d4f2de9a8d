"""library_files_wanted: the project files a release writes on a host, as {path on the host:
sha256 of the content it writes} (roles/library/vars/main.yml's library_files_wanted_now;
prepare.yml compares them with the host's in one look, files.yml writes those that differ).

The compose project's files (and compose/db-init/'s), the shared certificate, the external
database's CA, the backups' files, the host's own files of the dumps and of the backups, .env
and app.env. Each group is read only when the host uses it: a template of a feature the host
does not use may name variables it never set. Files and templates are read through the
caller's `lookup` (Jinja's own, passed as an argument), so templates render with the play's
variables and search path, exactly as a lookup written in the role's YAML would.

library_checksums: sha256sum's output ("<checksum>  <path>" for each file it could read) as
{path: checksum}; library_files_differing: the paths of the files wanted whose checksum on the
host differs, or that are missing (prepare.yml).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping

from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.parsing.convert_bool import boolean

Lookup = Callable[..., object]
CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$", re.MULTILINE)


def sha256(text: str) -> str:
    # As Ansible's hash filter: the text's UTF-8 bytes (surrogates kept as they were read).
    return hashlib.sha256(to_bytes(text, errors="surrogate_or_strict")).hexdigest()


def read_file(lookup: Lookup, path: str) -> str:
    # rstrip=False: the file's exact bytes, as the copy writes them (a trailing newline counts).
    return lookup("ansible.builtin.file", path, rstrip=False)


def render(lookup: Lookup, template: str) -> str:
    return lookup("ansible.builtin.template", template)


def compose_names(sources: list[str], src: str, lookup: Lookup) -> list[str]:
    """The compose project's files, then every file of compose/db-init/ by its name there."""
    found = lookup("ansible.builtin.fileglob", f"{src}/db-init/*", wantlist=True)
    return list(sources) + ["db-init/" + path.rpartition("/")[2] for path in found]


def hashed_contents(folder: str, contents: Mapping[str, str]) -> dict[str, str]:
    return {f"{folder}/{name}": sha256(content) for name, content in contents.items()}


def hashed_templates(lookup: Lookup, templates: Mapping[str, str]) -> dict[str, str]:
    return {path: sha256(render(lookup, template)) for path, template in templates.items()}


def library_files_wanted(library_dir: str, lookup: Lookup, *, compose_sources: list[str], compose_src: str,
                         tls_shared: object, tls_files: Mapping[str, str], bundled_db: object,
                         database_ca_file: str, database_ca_host_path: str, backup: object, dump_here: object,
                         backup_dir: str, backup_files: Mapping[str, str], dump_host_files: Mapping[str, str],
                         backup_host_files: Mapping[str, str], app_env_path: str) -> dict[str, str]:
    backup, dump_here = boolean(backup, strict=False), boolean(dump_here, strict=False)
    files = {f"{library_dir}/{name}": sha256(read_file(lookup, f"{compose_src}/{name}"))
             for name in compose_names(compose_sources, compose_src, lookup)}
    if boolean(tls_shared, strict=False):
        files.update(hashed_contents(f"{library_dir}/proxy/tls", tls_files))
    if not boolean(bundled_db, strict=False) and database_ca_file:
        files[database_ca_host_path] = sha256(read_file(lookup, database_ca_file))
    if backup or dump_here:
        files.update(hashed_contents(backup_dir, backup_files))
    if dump_here:
        files.update(hashed_templates(lookup, dump_host_files))
    if backup:
        files.update(hashed_templates(lookup, backup_host_files))
    files.update(hashed_templates(lookup, {f"{library_dir}/.env": "opt/library/.env.j2", app_env_path: "opt/library/app.env.j2"}))
    return files


def library_checksums(sha256sum_output: str) -> dict[str, str]:
    return {path: checksum for checksum, path in CHECKSUM_LINE.findall(sha256sum_output or "")}


def library_files_differing(wanted: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    return [path for path, checksum in wanted.items() if found.get(path, "") != checksum]


class FilterModule:
    def filters(self):
        return {"library_files_wanted": library_files_wanted, "library_checksums": library_checksums,
                "library_files_differing": library_files_differing}
