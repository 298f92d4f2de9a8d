"""Which compose project a host runs (roles/library/vars/main.yml names the results):

- library_compose_files: compose.yaml and the overlays the host's features need, in the order
  compose merges them.
- library_compose_profiles: the profiles to enable (bundled-db: the bundled database).
- library_images: every image the host pulls (the database's only when it runs one or dumps).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean


def on(value: object) -> bool:
    # As Jinja's `| bool` in the role: "true", "yes", 1 and true are on.
    return boolean(value, strict=False)


def library_compose_files(engine: str, *, https: object, backup: object, dump_here: object) -> list[str]:
    overlays = [("compose.https.yaml", on(https)), ("compose.backup.yaml", on(backup)),
                ("compose.dump.yaml", on(dump_here)), ("compose.swarm.yaml", engine == "swarm")]
    return ["compose.yaml"] + [name for name, wanted in overlays if wanted]


def library_compose_profiles(bundled_db: object) -> list[str]:
    return ["bundled-db"] if on(bundled_db) else []


def library_images(by_digest: list[str], *, tag: str, caddy: str, valkey: str, postgres: str,
                   bundled_db: object, dump_here: object) -> list[str]:
    database = [postgres] if on(bundled_db) or on(dump_here) else []
    return list(by_digest) + [tag, caddy, valkey] + database


class FilterModule:
    def filters(self):
        return {
            "library_compose_files": library_compose_files,
            "library_compose_profiles": library_compose_profiles,
            "library_images": library_images,
        }
