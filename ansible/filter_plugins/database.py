"""Where the app and the role find the database (roles/library/vars/main.yml names the results):

- library_external_database_url: the external database's URL as the app gets it, with
  sslrootcert pointing at the operator's CA when one is given (compose mounts it there).
- library_db_node: whether this host runs the bundled database: every host with compose; with
  swarm, the node labelled for it (library.db=true), which alone keeps its backups.
- library_db_exec: docker exec's argv into the running db container as the postgres user (with
  swarm, library-db-exec finds the task's container, whose name is Swarm's).
"""

from __future__ import annotations


def library_external_database_url(url: str, ca_file: str, ca_container_path: str) -> str:
    if not ca_file:
        return url
    return url + ("&" if "?" in url else "?") + "sslrootcert=" + ca_container_path


def library_db_node(engine: str, node_labels: dict | None) -> bool:
    return engine == "compose" or str((node_labels or {}).get("library.db", "")) == "true"


def library_db_exec(engine: str, project: str, swarm_db_exec: str) -> list[str]:
    if engine == "compose":
        return ["docker", "exec", "--user", "postgres", f"{project}-db-1"]
    return [swarm_db_exec]


class FilterModule:
    def filters(self):
        return {
            "library_external_database_url": library_external_database_url,
            "library_db_node": library_db_node,
            "library_db_exec": library_db_exec,
        }
