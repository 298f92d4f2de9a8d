"""ansible-playbook's results as its JSON callback reports them: the one reader of results for
the preflight tests (tests/ansible), the lab's end-to-end tests and deploy/lab/bench-deploy
(both through tests/e2e/lab_playbook.py). A report keeps each task's name, each host's status
and each message whole, where the human output folds, colours and lays them out for a reader."""

import json
from dataclasses import dataclass
from datetime import datetime

# The environment that makes ansible-playbook print its JSON report on stdout.
JSON_CALLBACK = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}


def status(result):
    """What became of a task on a host: "unreachable", "failed", "skipped", "changed" or "ok"."""
    for name in ("unreachable", "failed", "skipped", "changed"):
        if result.get(name):
            return name
    return "ok"


@dataclass
class Run:
    """An ansible-playbook run, read from its JSON callback report."""

    rc: int
    report: dict
    stderr: str

    @property
    def recap(self):
        """{host: {"ok", "changed", "unreachable", "failed"}}."""
        return {host: {"ok": s["ok"], "changed": s["changed"], "unreachable": s["unreachable"],
                       "failed": s["failures"]} for host, s in self.report.get("stats", {}).items()}

    def results(self):
        """(task name, host, result) of every task on every host, in order. A role's task is
        named "role : name"."""
        for play in self.report.get("plays", []):
            for task in play["tasks"]:
                for host, result in task["hosts"].items():
                    yield task["task"]["name"], host, result

    def ran(self, prefix):
        """Whether a task whose name starts with PREFIX ("base : ", "library : Roll") ran
        (was not skipped) on some host."""
        return any(name.startswith(prefix) and not result.get("skipped")
                   for name, _, result in self.results())

    def hosts_by_task(self, wanted="ok"):
        """{task name: the hosts (sorted) whose result had the status WANTED (see status())}, with
        every task that started, even one where no host had it."""
        hosts = {}
        for name, host, result in self.results():
            found = hosts.setdefault(name, [])
            if status(result) == wanted:
                found.append(host)
        return {name: sorted(found) for name, found in hosts.items()}

    def seconds(self, prefix):
        """How long the longest task whose name starts with PREFIX took (0 when none ran)."""
        def moment(text):
            return datetime.fromisoformat(text)

        spans = [task["task"]["duration"] for play in self.report.get("plays", []) for task in play["tasks"]
                 if task["task"]["name"].startswith(prefix) and "end" in task["task"].get("duration", {})]
        return max(((moment(s["end"]) - moment(s["start"])).total_seconds() for s in spans), default=0.0)

    def failure_messages(self, host=None):
        """The msg of each failed result, one per task and host ("" for a failure without one);
        of HOST's results only, when given."""
        return [str(result.get("msg", "")) for _, on, result in self.results()
                if status(result) == "failed" and host in (None, on)]

    @property
    def text(self):
        """Every message the run printed (debug and failure messages), then its stderr."""
        messages = [str(result["msg"]) for _, _, result in self.results() if result.get("msg")]
        return "\n".join([*messages, self.stderr])


def read_run(process):
    """A finished ansible-playbook process (CompletedProcess or (rc, stdout, stderr)) as a Run.
    A stdout that is no JSON report (ansible stopped before its callback printed) goes into
    stderr, so the run's text still shows it."""
    rc, stdout, stderr = (process if isinstance(process, tuple)
                          else (process.returncode, process.stdout, process.stderr))
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        report = {}
        stderr = stdout + stderr
    return Run(rc, report, stderr)
