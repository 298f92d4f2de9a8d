"""The library on Docker Swarm in the lab (library_engine swarm), in order (run with -x, after the
compose lifecycle, on the same lab): the lab moves from compose to one swarm (lab-1 manages it and
keeps the database, lab-2 works) and keeps its data; testinfra checks the cluster; then, under a
steady load through both nodes' proxies, a rolling update, a release that never becomes ready
(Swarm rolls it back by itself and the deploy fails naming why), a lost node, scaling web from
2 to 4, and a rollback. Every figure is printed; failed requests must be none."""

import hashlib
import os
import time
import uuid

import pytest
import testinfra
from conftest import (
    DOCKER,
    HOSTS,
    ROOT,
    STATE,
    build,
    build_never_ready,
    get,
    make_lab,
    playbook,
    post,
    releases,
    revisions,
    sh,
    site_yml,
    status_rows,
    wait_for,
)
from load import SteadyLoad

# As in test_lifecycle: the worst request a user may see during a step (goal 1 s, printed).
SLOWEST = 3.0
LAB_1 = f"http://{HOSTS['lab-1']}"
MANAGER = "lab-1"
FIGURES = STATE / "swarm-figures.log"
story = {}


def node(name):
    return testinfra.get_host(f"ssh://{name}", ssh_config=str(STATE / "ssh_config"))


def docker(name, command):
    """A docker command on lab host NAME (as root); its stdout, which it must give."""
    out = node(name).run(f"sudo docker {command}")
    assert out.rc == 0, f"{name}: docker {command}: {out.stderr}"
    return out.stdout


def services():
    """{service: 'running/desired'} of the stack, as the manager reports it."""
    lines = docker(MANAGER, "service ls --filter label=com.docker.stack.namespace=library "
                            "--format '{{.Name}} {{.Replicas}}'").split("\n")
    return dict(line.split()[:2] for line in lines if line.strip())


def web_tasks():
    """[(node, state)] of web's tasks that should run."""
    out = docker(MANAGER, "service ps library_web --filter desired-state=running "
                          "--format '{{.Node}} {{.CurrentState}}'")
    return [tuple(line.split()[:2]) for line in out.splitlines() if line.strip()]


def figure(what):
    """Print a figure and keep it in .state/swarm-figures.log (tests/e2e/run prints the file:
    pytest shows a passing test's output only when asked)."""
    print(what, flush=True)
    with open(FIGURES, "a", encoding="utf-8") as f:
        f.write(what + "\n")


def under_load(step, what):
    started = time.monotonic()
    with SteadyLoad([f"http://{ip}/" for ip in HOSTS.values()]) as load:
        result = step()
    report = load.report()
    figure(f"{what}: {time.monotonic() - started:.0f} s; load through both nodes: {report.summary()}")
    assert report.total > 20, report.summary()
    assert report.failed == 0, report.summary()
    assert report.slowest <= SLOWEST, report.summary()
    return result


def test_the_lab_moves_to_one_swarm_and_keeps_its_data(lab_secrets, admin_username, first_revision):
    token = post(f"{LAB_1}/api/v1/auth/token/",
                 {"username": admin_username, "password": lab_secrets["vault_library_admin_password"]})["token"]
    auth = {"Authorization": f"Token {token}"}
    books = get(f"{LAB_1}/api/v1/books/", headers=auth).json()["count"]
    assert books > 0
    FIGURES.unlink(missing_ok=True)
    started = time.monotonic()
    r = sh(ROOT / "deploy/lab/lab", "up", timeout=1800,
           env={**os.environ, "LAB_ENGINE": "swarm", "LAB_REVISION": first_revision, "STACKS_LAB_LOCKED": "1"})
    assert r.returncode == 0, r.stdout[-3000:]
    figure(f"compose to swarm (lab up, site.yml): {time.monotonic() - started:.0f} s")
    # lab-1's database, taken over by the swarm's db service: the same books, and the token.
    for ip in HOSTS.values():
        assert get(f"http://{ip}/readyz").status_code == 200
        assert get(f"http://{ip}/api/v1/books/", headers=auth).json()["count"] == books
    story.update(auth=auth, books=books, move=r.stdout)


def test_every_node_is_ready_and_lab_1_leads():
    out = docker(MANAGER, "node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'")
    nodes = sorted(line.split() for line in out.splitlines())
    assert [n[1:3] for n in nodes] == [["Ready", "Active"]] * len(HOSTS), out
    assert [n[3:] for n in nodes].count(["Leader"]) == 1, out


def test_the_stack_has_converged():
    assert services() == {"library_web": "2/2", "library_proxy": f"{len(HOSTS)}/{len(HOSTS)}",
                          "library_db": "1/1", "library_cache": "1/1"}


def test_the_database_runs_on_the_labelled_node():
    out = docker(MANAGER, "service ps library_db --filter desired-state=running --format '{{.Node}}'")
    assert out.split() == [docker(MANAGER, "node inspect self --format '{{.Description.Hostname}}'").strip()]


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_no_secret_is_in_any_container_environment(name, lab_secrets):
    secrets = [lab_secrets[key] for key in ("vault_library_secret_key", "vault_library_db_password")]
    # The cache's password, which the role makes from the secret key (roles/library/vars/main.yml).
    secrets.append(hashlib.sha256((lab_secrets["vault_library_secret_key"] + "/library-cache").encode()).hexdigest())
    ids = docker(name, "ps -q").split()
    assert ids, f"{name} runs no container"
    environments = docker(name, "inspect --format '{{json .Config.Env}}' " + " ".join(ids))
    assert not [s for s in secrets if s in environments]
    assert "DJANGO_SECRET_KEY_FILE=/run/secrets/django_secret_key" in environments or name not in {
        n for n, _ in web_tasks()}


def test_web_reads_its_secrets_from_files():
    name = web_tasks()[0][0]
    web = docker(name, "ps -q --filter label=com.docker.swarm.service.name=library_web").split()[0]
    assert docker(name, f"exec {web} ls /run/secrets").split() == ["cache_url", "database_url", "django_secret_key"]


def test_the_move_ensured_the_first_admin_on_one_node(admin_username):
    """A swarm's first release ensures the first admin, as a host's first deploy with compose
    does (here it exists already: the database came over from compose)."""
    lines = story["move"].splitlines()
    task = [i for i, line in enumerate(lines) if line.startswith("TASK [library : Ensure the first admin exists]")]
    assert len(task) == 1, "the swarm's first release did not ensure the first admin"
    assert any(line.startswith(("ok: [lab-", "changed: [lab-")) for line in lines[task[0] + 1:task[0] + 4]), \
        lines[task[0]:task[0] + 4]


def test_logs_show_the_swarms_web_requests_by_node_and_service():
    marker = uuid.uuid4().hex
    for ip in HOSTS.values():
        assert get(f"http://{ip}/e2e-swarm-logs-{marker}/").status_code == 404

    def found():
        r = make_lab("logs", "SINCE=5m", "SERVICE=web", f"GREP={marker}")
        assert r.returncode == 0, r.stderr[-3000:]
        return r.stdout.splitlines() or None

    for line in wait_for("a request's log line from the swarm", found, seconds=60, interval=3):
        host, service, rest = line.split(" | ", 2)
        assert host in HOSTS and service == "web", line
        assert rest[:4].isdigit() and marker in rest, line


def test_exec_runs_a_management_command_in_a_web_task(admin_username):
    host = web_tasks()[0][0]
    script = ("from django.contrib.auth import get_user_model\n"
              f"print('admin exists:', get_user_model().objects.filter(username={admin_username!r}).exists())\n")
    r = make_lab("exec", f"HOST={host}", "CMD=manage.py shell", stdin=script)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "admin exists: True" in r.stdout, r.stdout[-3000:]


def test_status_shows_each_nodes_tasks_by_service():
    r = make_lab("status")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = status_rows(r.stdout)
    assert set(rows) == set(HOSTS), r.stdout
    # lab-1 runs the database's task (and the proxy's): its health is read from the task.
    assert rows["lab-1"]["DB"] == "healthy", r.stdout


def test_maintenance_puts_every_nodes_proxy_in_maintenance_and_back():
    on = make_lab("maintenance", "STATE=on")
    try:
        assert on.returncode == 0, on.stderr[-3000:]
        for ip in HOSTS.values():
            assert get(f"http://{ip}/api/v1/books/").status_code == 503
            assert get(f"http://{ip}/readyz").status_code == 200
    finally:
        off = make_lab("maintenance", "STATE=off")
    assert off.returncode == 0, off.stderr[-3000:]
    assert {name: get(f"http://{ip}/api/v1/books/").status_code for name, ip in HOSTS.items()} == dict.fromkeys(HOSTS, 200)


def test_the_database_is_backed_up_on_its_node():
    """As with compose: WAL archived from the db task, a backup now, the backup host's drill."""
    archiver = node(MANAGER).run("sudo /usr/local/sbin/library-db-exec psql -X -tA -d library "
                                 "-c 'SELECT archived_count > 0, failed_count FROM pg_stat_archiver'")
    assert archiver.rc == 0 and archiver.stdout.strip().startswith("t|"), archiver.stdout + archiver.stderr
    before = node(MANAGER).run("sudo /usr/local/sbin/library-db-exec pgbackrest --stanza=lab-1 info --output=json")
    assert before.rc == 0, before.stderr
    run = playbook("backup.yml", "-e", "library_backup_type=incr")
    assert run.rc == 0, run.text[-3000:]
    after = node(MANAGER).run("sudo /usr/local/sbin/library-db-exec pgbackrest --stanza=lab-1 info --output=json")
    assert after.stdout.count('"label"') == before.stdout.count('"label"') + 1
    drill = node("lab-backup").run("sudo library-restore-drill --only bk-lab-1")
    assert drill.rc == 0, drill.stdout + drill.stderr
    assert "lab-1: ok" in drill.stdout


def test_rolling_update_under_load(first_revision):
    tag = f"{first_revision[:12]}-e2e-swarm"
    build(tag)
    run = under_load(lambda: site_yml(tag), "rolling update")
    assert run.rc == 0, run.text[-3000:]
    assert revisions() == {name: tag for name in HOSTS}
    assert services()["library_web"] == "2/2"
    for name in HOSTS:
        assert releases(name)[-1] == (tag, "ok")
    story["upgrade"] = tag


def test_a_release_that_never_gets_ready_is_rolled_back_by_swarm():
    upgrade = story["upgrade"]
    broken = build_never_ready(upgrade)
    run = under_load(lambda: site_yml(broken), "release rolled back by Swarm")
    assert run.rc != 0, "site.yml succeeded with an image that never becomes ready"
    assert "web did not take" in run.text and "rollback_completed" in run.text, run.text[-3000:]
    assert revisions() == {name: upgrade for name in HOSTS}
    for name in HOSTS:
        assert releases(name)[-1] == (broken, "failed")


def test_a_lost_node_is_healed_and_rejoins():
    lost, kept = "lab-2", HOSTS["lab-1"]
    # Every deploy leaves web spread (the last one even after Swarm rolled it back): losing one
    # node keeps a task serving.
    assert {node for node, _ in web_tasks()} == set(HOSTS), web_tasks()
    with SteadyLoad([f"http://{kept}/"]) as load:
        stopped = time.monotonic()
        assert sh(DOCKER, "stop", f"stacks-{lost}").returncode == 0
        wait_for("web's 2 tasks running on lab-1 alone",
                 lambda: [t for t in web_tasks() if t == ("lab-1", "Running")] == [("lab-1", "Running")] * 2
                 and len(web_tasks()) == 2, seconds=180, interval=1)
        rescheduled = time.monotonic() - stopped
        assert sh(DOCKER, "start", f"stacks-{lost}").returncode == 0
        wait_for(f"{lost} Ready again", lambda: "Ready" in docker(
            MANAGER, f"node inspect {lost} --format '{{{{.Status.State}}}}'").title(), seconds=180)
        restarted = time.monotonic()
        wait_for(f"{lost} answering again", lambda: get(f"http://{HOSTS[lost]}/readyz").status_code == 200,
                 seconds=180, interval=1)
        back = time.monotonic() - restarted
    report = load.report()
    figure(f"node lost: web rescheduled on lab-1 {rescheduled:.1f} s after the stop; {lost} answered again "
           f"{back:.1f} s after its start; load through lab-1: {report.summary()}")
    assert report.failed == 0, report.summary()
    assert get(f"http://{HOSTS[lost]}/api/v1/books/", headers=story["auth"]).json()["count"] == story["books"]


def test_scaling_web_to_4_is_one_variable_and_one_deploy():
    run = under_load(lambda: site_yml(story["upgrade"], "-e", "library_web_replicas=4"), "scale web 2 to 4")
    assert run.rc == 0, run.text[-3000:]
    assert services()["library_web"] == "4/4"
    # Swarm spreads the new tasks over the nodes.
    assert {n for n, _ in web_tasks()} == set(HOSTS)


def test_rollback_goes_back_one_release_under_load(first_revision):
    run = under_load(lambda: playbook("rollback.yml", "-e", "library_web_replicas=4"), "rollback")
    assert run.rc == 0, run.text[-3000:]
    assert revisions() == {name: first_revision for name in HOSTS}
    for name in HOSTS:
        assert releases(name)[-1] == (first_revision, "ok")
