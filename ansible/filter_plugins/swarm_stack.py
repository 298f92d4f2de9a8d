"""swarm_stack: the stack Swarm deploys, from the very compose definition the hosts run.

The input is `docker compose -f compose.yaml -f compose.swarm.yaml config --format json` on a
manager: compose has already read .env, merged the override and resolved every path. What
`docker stack deploy` reads differs from what compose runs, so this keeps what it means and
says it the way Swarm understands it:

- the project name goes (the stack's name is given to `docker stack deploy`);
- `mem_limit` and `pids_limit` become `deploy.resources.limits`;
- `tmpfs` paths become tmpfs mounts (Swarm ignores the short form);
- what Swarm has no notion of goes: `restart` (deploy.restart_policy says it), `depends_on`
  (Swarm starts everything at once and restarts what fails), `profiles`, `shm_size`,
  `security_opt` (services cannot set no-new-privileges: noted in docs/architecture.md), `pull_policy`;
- `env_file` goes: compose has already read the files into `environment` (and its long form,
  `path:`/`required:`, is one `docker stack deploy` refuses);
- services not meant for the stack go: `migrate` (the deploy runs the migrations as a one-shot
  job before each update of web, swarm/migrate.yml) and any in `leave_out`;
- with `encrypt` false, the overlay networks' `encrypted` option goes (a kernel without IPsec
  ESP cannot carry an encrypted overlay: its tasks would not reach each other).
"""

from __future__ import annotations

import copy

UNSUPPORTED = ("restart", "depends_on", "profiles", "shm_size", "security_opt", "pull_policy",
               "container_name", "mem_limit", "pids_limit", "tmpfs", "env_file")


def swarm_stack(config: dict, leave_out: list[str] | None = None, encrypt: bool = True) -> dict:
    leave_out = {"migrate", *(leave_out or [])}
    stack = {key: copy.deepcopy(value) for key, value in config.items() if key != "name"}
    if not encrypt:
        for network in (stack.get("networks") or {}).values():
            options = (network or {}).get("driver_opts") or {}
            options.pop("encrypted", None)
            if network and not options:
                network.pop("driver_opts", None)
    stack["services"] = {
        name: _service(service) for name, service in config.get("services", {}).items()
        if name not in leave_out
    }
    return stack


def _service(service: dict) -> dict:
    out = {key: copy.deepcopy(value) for key, value in service.items()
           if key not in UNSUPPORTED and value is not None}  # compose prints unset ones as null
    for port in out.get("ports", []):
        if "published" in port:  # a string in compose's output, a number in a stack's
            port["published"] = int(port["published"])
    for volume in out.get("volumes", []):
        volume.get("bind", {}).pop("create_host_path", None)  # compose's alone
        if not volume.get("bind", True):
            del volume["bind"]
    if not out.get("deploy", {}).get("placement", True):
        del out["deploy"]["placement"]
    limits = {}
    if "mem_limit" in service:
        limits["memory"] = str(service["mem_limit"])
    if "pids_limit" in service:
        limits["pids"] = int(service["pids_limit"])
    if limits:
        deploy = out.setdefault("deploy", {})
        deploy.setdefault("resources", {}).setdefault("limits", {}).update(limits)
    for path in _tmpfs_paths(service.get("tmpfs")):
        out.setdefault("volumes", []).append({"type": "tmpfs", "target": path})
    return out


def _tmpfs_paths(tmpfs) -> list[str]:
    if not tmpfs:
        return []
    entries = [tmpfs] if isinstance(tmpfs, str) else list(tmpfs)
    return [entry.split(":", 1)[0] for entry in entries]


def swarm_web_node(hosts: list[str], hostvars, project: str) -> str:
    """The first of HOSTS that runs a web task of stack PROJECT, from each host's
    library_stack_containers (docker_host_info, verbose), or "" when none does."""
    for host in hosts:
        if swarm_web_containers(hostvars[host].get("library_stack_containers", {}).get("containers", []), project):
            return host
    return ""


def swarm_web_containers(containers: list[dict], project: str) -> list[str]:
    """The ids of the running containers of stack PROJECT's web tasks among CONTAINERS."""
    return [c["Id"] for c in containers
            if (c.get("Labels") or {}).get("com.docker.swarm.service.name") == f"{project}_web"
            and c.get("State") == "running"]


def swarm_job_secrets(secrets: list[dict], stack_secrets: dict) -> list[dict]:
    """A service's secrets (the stack's `secrets:` entries of web) as docker_swarm_service takes
    them: each by the name the stack gave it, as the file web reads (its target, else its source)."""
    return [{"secret_name": stack_secrets[secret["source"]]["name"], "filename": secret.get("target", secret["source"])}
            for secret in secrets]


def swarm_job_mounts(volumes: list[dict]) -> list[dict]:
    """A service's bind mounts (the stack's `volumes:` entries of web) as docker_swarm_service
    takes them, after a /tmp of its own (the job's root is read-only, as web's)."""
    binds = [{"type": "bind", "source": volume["source"], "target": volume["target"],
              "readonly": volume.get("read_only", False)} for volume in volumes if volume["type"] == "bind"]
    return [{"type": "tmpfs", "target": "/tmp"}, *binds]


def swarm_web_crowded(tasks: list[dict], service: str, nodes: list[dict]) -> bool:
    """Whether SERVICE's running tasks (docker stack ps rows) sit on fewer nodes than they could:
    fewer distinct nodes than min(tasks, ready and active nodes). Swarm places a task where it
    fits at that moment and never moves it back, so after its own rollback or a node's return
    every task can share one node, whose loss would then stop the service."""
    running = [task["Node"] for task in tasks
               if task.get("Name", "").startswith(service + ".") and task.get("DesiredState") == "Running"
               and str(task.get("CurrentState", "")).startswith("Running")]
    usable = [node for node in nodes
              if node.get("Status", {}).get("State") == "ready" and node.get("Spec", {}).get("Availability") == "active"]
    return len(set(running)) < min(len(running), len(usable))


class FilterModule:
    def filters(self):
        return {"swarm_stack": swarm_stack, "swarm_web_node": swarm_web_node,
                "swarm_web_containers": swarm_web_containers, "swarm_job_secrets": swarm_job_secrets,
                "swarm_web_crowded": swarm_web_crowded,
                "swarm_job_mounts": swarm_job_mounts}
