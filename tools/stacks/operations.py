"""The verbs that run a playbook against an environment (deploy, rollback, unlock, plan, status,
prune, backup, restore, maintenance) and the two that ssh to the hosts themselves (logs, exec).
Each takes its checked inputs and the process environment it passes on, and returns the exit
status."""

from __future__ import annotations

import json
import os
import secrets as random
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from stacks import playbooks, remote, summary
from stacks.environments import Environment, Secrets


def say(verb: str, message: str) -> None:
    print(f"{verb}: {message}", file=sys.stderr, flush=True)


def deployer(environ: Mapping[str, str]) -> dict[str, str]:
    """releases.log's deployer for a workflow run; on a workstation the playbooks name user@machine."""
    if environ.get("LIBRARY_DEPLOYER") or not environ.get("GITHUB_RUN_ID"):
        return {}
    return {"LIBRARY_DEPLOYER": f"github:{environ.get('GITHUB_ACTOR') or 'unknown'}/run/{environ['GITHUB_RUN_ID']}"}


# verb: (playbook, whether it holds the deploy lock and so releases its own lock when it fails)
PLAYBOOKS = {
    "deploy": ("site.yml", True),
    "rollback": ("rollback.yml", True),
    "unlock": ("unlock.yml", False),
    "backup": ("backup.yml", False),
    "restore": ("restore.yml", True),
    "maintenance": ("maintenance.yml", False),
    "prune": ("prune.yml", True),
    "status": ("status.yml", False),
}


def run_playbook_verb(verb: str, environment: Environment, environ: Mapping[str, str],
                      variables: Mapping[str, Any] = {}, revision: str = "", extra: list[str] = ()) -> int:
    """VERB's playbook with VARIABLES (and library_revision when REVISION is given); after a
    deploy or a rollback to a named revision, the smoke check of every host. A run that holds the
    lock releases it when its playbook fails (a lock another run holds is left alone)."""
    playbook, locks = PLAYBOOKS[verb]
    variables = {**variables, **({"library_revision": revision} if revision else {})}
    if locks:
        variables["library_lock_id"] = random.token_hex(8)
    started = time.monotonic()
    times: dict[str, str] = {}
    outcome = f"stopped before {playbook} ❌"
    with Secrets(environment, environ) as secrets:
        secrets.child_environ.update(deployer(environ))
        try:
            if verb in ("deploy", "rollback"):
                say(verb, f"{revision or 'the previous release'} to {environment.name} ({environment.inventory})")
            t0 = time.monotonic()
            rc = playbooks.run(playbook, environment, secrets, variables, extra).returncode
            times[playbook] = f"{time.monotonic() - t0:.0f}"
            if rc != 0:
                outcome = f"{playbook} failed ❌"
                say(verb, f"{playbook} failed on {environment.name} (exit {rc})")
                if locks:
                    playbooks.run("unlock.yml", environment, secrets, variables, extra,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return rc
            if not revision or verb not in ("deploy", "rollback"):
                outcome = f"{verb} done ✅"
                return 0
            t0 = time.monotonic()
            rc = playbooks.run("smoke.yml", environment, secrets, {"library_revision": revision}, extra).returncode
            times["smoke check"] = f"{time.monotonic() - t0:.0f}"
            if rc != 0:
                outcome = "deployed, smoke check failed ❌"
                say(verb, f"{environment.name} does not serve {revision} on every host (see above)")
                return rc
            outcome = "deployed and ready ✅"
            say(verb, f"{environment.name} runs {revision} ({playbook} {times[playbook]}s, smoke {times['smoke check']}s)")
            return 0
        finally:
            summary.append(environ, summary.markdown(
                environ, f"{verb.capitalize()} to {environment.name}", str(environment.inventory.relative_to(
                    environment.inventory.parents[2])), revision, outcome, times, round(time.monotonic() - started),
                variables.get("library_release_digest", "")))


def plan(environment: Environment, environ: Mapping[str, str], revision: str) -> int:
    """plan.yml writes what a deploy would do as JSON; the lines printed and the exit status come
    from it: 0 when it would change nothing, or when it lists the changes; 1 when it failed."""
    with Secrets(environment, environ) as secrets:
        report = secrets.folder / "plan.json"
        variables = {"library_plan_report": str(report), **({"library_revision": revision} if revision else {})}
        rc = playbooks.run("plan.yml", environment, secrets, variables, ["--check", "--diff"]).returncode
        if rc != 0 or not report.is_file():
            say("plan", f"plan.yml failed on {environment.name} (exit {rc or 1})")
            return rc or 1
        from stacks.plan import describe
        print("\n".join(describe(json.loads(report.read_text(encoding="utf-8")))))
        return 0


def logs(environment: Environment, environ: Mapping[str, str], service: str, since: str, pattern: str,
         follow: bool) -> int:
    with Secrets(environment, environ) as secrets:
        hosts = playbooks.connections(environment, secrets)
        if not hosts:
            say("logs", f"{environment.inventory} has no host in group library")
            return 1
        # Following: a terminal on the host (-tt), so that compose there is hung up on when this
        # ends; without one it would follow on until its next line found the connection gone.
        argvs = {host: remote.ssh_argv(s, secrets.ssh_options, "-tt" if follow else "") for host, s in hosts.items()}
        commands = {host: remote.logs_command(s, since, follow, service) for host, s in hosts.items()}
        failed = remote.stream_logs(argvs, commands, pattern, follow, env=secrets.child_environ)
        if failed:
            say("logs", f"no logs from {' '.join(failed)} (see above)")
            return 1
        return 0


def exec_manage(environment: Environment, environ: Mapping[str, str], host: str, words: list[str], cmd: str) -> int:
    with Secrets(environment, environ) as secrets:
        hosts = playbooks.connections(environment, secrets)
        if host not in hosts:
            say("exec", f"HOST '{host}' is not a host of {environment.name} (hosts: {' '.join(hosts)})")
            return 2
        tty = os.isatty(sys.stdin.fileno()) if sys.stdin else False
        argv = remote.ssh_argv(hosts[host], secrets.ssh_options, "-t" if tty else "")
        say("exec", f"on {host}: {cmd}")
        return subprocess.run([*argv, remote.manage_command(hosts[host], tty, words)], env=secrets.child_environ,
                              check=False).returncode
