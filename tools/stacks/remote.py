"""The commands that ssh to the hosts themselves, because ansible can neither stream output nor
pass a terminal through: `logs` and `exec`, for either engine. Each host is reached as ansible reaches it
(playbooks.connections), and every word of the remote command reaches the host's shell quoted
(shlex), so operator input is only ever data there."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping

# Terminal control sequences: compose 2.26 starts each line with one that clears it, and a logged
# request could carry others to the operator's terminal.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def ssh_argv(settings: Mapping[str, str], options: Iterable[str] = (), tty: str = "") -> list[str]:
    """ssh to the host as ansible does: the options given first (the run's key and known hosts:
    ssh keeps the first value it reads), then the inventory's user, port, key and arguments.
    TTY: "-t" or "-tt" to ask for a terminal on the host."""
    argv = ["ssh", *([tty] if tty else []), *options]
    if settings.get("port"):
        argv += ["-p", str(settings["port"])]
    if settings.get("user"):
        argv += ["-l", settings["user"]]
    if settings.get("key"):
        argv += ["-i", settings["key"]]
    argv += shlex.split(settings.get("common_args") or "") + shlex.split(settings.get("extra_args") or "")
    return [*argv, "-o", "ConnectTimeout=10", settings["host"]]


def compose(settings: Mapping[str, str], *words: str) -> str:
    """`docker compose` in the project folder (its compose files and .env are the running
    release's), as root (only root may enter the folder): one shell line, every word quoted.
    The folder and the words reach the root shell as its arguments, never as its script.
    --ansi never: no colour or cursor codes in what is read on this side."""
    return as_root('cd "$1" && shift && exec docker compose "$@"', "library-compose",
                   settings["library_dir"], "-p", settings["library_project_name"], "--ansi", "never", *words)


# With swarm, each node prints its own tasks' logs (so a line comes once, from the node that ran
# it), as "SERVICE | TIME line" like compose's; the tasks are found by the stack's labels.
SWARM_LOGS = """\
project=$1 since=$2 follow=$3 service=$4
filter="label=com.docker.stack.namespace=$project"
[ -z "$service" ] || filter="label=com.docker.swarm.service.name=${project}_$service"
docker ps -q --filter "$filter" | {
  while read -r id; do
    name=$(docker inspect --format '{{index .Config.Labels "com.docker.swarm.service.name"}}' "$id")
    docker logs --timestamps --since "$since" ${follow:+--follow} "$id" 2>&1 | sed -u "s/^/${name#"${project}_"} | /" &
  done
  wait
}"""

# With swarm, a command runs in a web task of the node (a task's container is where its secrets
# are mounted), not in a one-off container.
SWARM_MANAGE = """\
project=$1 tty=$2
shift 2
id=$(docker ps -q --filter "label=com.docker.swarm.service.name=${project}_web" | head -n 1)
if [ -z "$id" ]; then
  echo "no web task runs on this node: choose another HOST" >&2
  exit 1
fi
exec docker exec -i ${tty:+-t} "$id" "$@"
"""


def swarm(settings: Mapping[str, str]) -> bool:
    return settings.get("library_engine") == "swarm"


def as_root(script: str, name: str, *words: str) -> str:
    """SCRIPT run by a root shell with WORDS as its arguments: one line, every word quoted."""
    return shlex.join(["sudo", "sh", "-c", script, name, *words])


def logs_command(settings: Mapping[str, str], since: str, follow: bool, service: str = "") -> str:
    if swarm(settings):
        return as_root(SWARM_LOGS, "library-logs", settings["library_project_name"], since, "1" if follow else "",
                       service)
    return compose(settings, "logs", "--timestamps", "--since", since,
                   *(["--follow"] if follow else []), *([service] if service else []))


def manage_command(settings: Mapping[str, str], tty: bool, words: list[str]) -> str:
    """A one-off web container of the running release (no dependency started), removed after;
    with swarm, a web task of the node."""
    if swarm(settings):
        return as_root(SWARM_MANAGE, "library-exec", settings["library_project_name"], "1" if tty else "",
                       "python", *words)
    return compose(settings, "run", "--rm", "--no-deps", *([] if tty else ["-T"]), "web", "python", *words)


def plain(line: str) -> str:
    """A line without terminal control sequences or its terminal's carriage return."""
    return _CONTROL.sub("", line).rstrip("\r\n").rstrip("\r")


def log_time(line: str) -> str:
    """What a compose log line sorts by: what follows "service-1  | ", which begins with its time."""
    return line.split("|", 1)[1].lstrip() if "|" in line else line


def merged(lines_by_host: Mapping[str, list[str]]) -> list[str]:
    """Every host's lines as "HOST | line", in time order (a stable sort: a host's own order is
    kept for lines of the same time)."""
    tagged = [(log_time(line), f"{host} | {line}") for host, lines in lines_by_host.items() for line in lines]
    return [text for _, text in sorted(tagged, key=lambda pair: pair[0])]


def stream_logs(argvs: Mapping[str, list[str]], remote: Mapping[str, str], pattern: str, follow: bool,
                out=sys.stdout, err=sys.stderr, env: Mapping[str, str] | None = None) -> list[str]:
    """Run every host's ssh at once; print its lines that match PATTERN prefixed with the host, as
    they come (FOLLOW) or merged in time order once every host has answered. A host's stderr goes
    to ERR, prefixed. ENV is ssh's environment (the run's, without the CI secrets). Returns the
    hosts whose ssh failed."""
    matcher = re.compile(pattern) if pattern else None
    collected: dict[str, list[str]] = {host: [] for host in argvs}
    lock = threading.Lock()
    failed: list[str] = []

    def pump(host: str, process: subprocess.Popen) -> None:
        def read_err() -> None:
            for line in process.stderr:
                with lock:
                    err.write(f"{host} | {plain(line)}\n")
                    err.flush()
        reader = threading.Thread(target=read_err)
        reader.start()
        for raw in process.stdout:
            line = plain(raw)
            if matcher and not matcher.search(line):
                continue
            if follow:
                with lock:
                    out.write(f"{host} | {line}\n")
                    out.flush()
            else:
                collected[host].append(line)
        reader.join()
        if process.wait() != 0:
            with lock:
                failed.append(host)

    threads = []
    for host, argv in argvs.items():
        process = subprocess.Popen([*argv, remote[host]], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, errors="replace", env=env)
        threads.append(threading.Thread(target=pump, args=(host, process)))
        threads[-1].start()
    for thread in threads:
        thread.join()
    if not follow:
        for line in merged(collected):
            out.write(line + "\n")
        out.flush()
    return [host for host in argvs if host in failed]
