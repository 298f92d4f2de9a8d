"""ansible/filter_plugins/swarm_stack.py: compose's merged configuration, said as a stack
`docker stack deploy` accepts (checked in the lab by deploying it)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ansible" / "filter_plugins"))

from swarm_stack import (
    swarm_job_mounts,
    swarm_job_secrets,
    swarm_stack,
    swarm_web_containers,
    swarm_web_crowded,
    swarm_web_node,
)

# The shape `docker compose config --format json` prints (docker compose 2.26).
CONFIG = {
    "name": "library",
    "networks": {"backend": {"name": "library_backend", "driver": "overlay", "internal": True}},
    "services": {
        "migrate": {"image": "app", "restart": "no"},
        "web": {
            "image": "app", "command": None, "entrypoint": None, "restart": "unless-stopped",
            "mem_limit": "536870912", "pids_limit": 256, "tmpfs": ["/tmp"],
            "security_opt": ["no-new-privileges:true"], "depends_on": {"db": {"condition": "service_healthy"}},
            "deploy": {"replicas": 2, "placement": {}, "endpoint_mode": "dnsrr"},
            "volumes": [{"type": "bind", "source": "/dev/null", "target": "/ca.pem", "read_only": True,
                         "bind": {"create_host_path": True}}],
            "networks": {"backend": None},
        },
        "proxy": {"image": "caddy", "ports": [{"mode": "host", "target": 80, "published": "80"}],
                  "tmpfs": "/tmp:size=1m"},
        "db": {"image": "postgres", "profiles": ["bundled-db"], "shm_size": "134217728"},
    },
}


def test_the_project_name_and_the_one_shot_migrate_are_left_out():
    stack = swarm_stack(CONFIG)
    assert "name" not in stack
    assert set(stack["services"]) == {"web", "proxy", "db"}
    assert set(swarm_stack(CONFIG, ["db"])["services"]) == {"web", "proxy"}


def test_limits_become_deploy_resources_and_what_swarm_ignores_goes():
    web = swarm_stack(CONFIG)["services"]["web"]
    assert web["deploy"]["resources"]["limits"] == {"memory": "536870912", "pids": 256}
    assert web["deploy"]["replicas"] == 2 and web["deploy"]["endpoint_mode"] == "dnsrr"
    assert "placement" not in web["deploy"]  # empty: the loader refuses {}
    for key in ("restart", "depends_on", "security_opt", "mem_limit", "pids_limit", "tmpfs",
                "command", "entrypoint"):
        assert key not in web, key
    assert web["networks"] == {"backend": None}  # a service's network without options stays


def test_tmpfs_paths_become_mounts_and_bind_options_only_compose_knows_go():
    stack = swarm_stack(CONFIG)
    assert stack["services"]["web"]["volumes"] == [
        {"type": "bind", "source": "/dev/null", "target": "/ca.pem", "read_only": True},
        {"type": "tmpfs", "target": "/tmp"},
    ]
    assert stack["services"]["proxy"]["volumes"] == [{"type": "tmpfs", "target": "/tmp"}]


def test_published_ports_are_numbers_and_the_input_is_left_as_it_was():
    before = repr(CONFIG)
    stack = swarm_stack(CONFIG)
    assert stack["services"]["proxy"]["ports"] == [{"mode": "host", "target": 80, "published": 80}]
    assert "profiles" not in stack["services"]["db"] and "shm_size" not in stack["services"]["db"]
    assert repr(CONFIG) == before


def encrypted(config: dict) -> dict:
    networks = {name: {**network, "driver_opts": {"encrypted": ""}} for name, network in config["networks"].items()}
    return {**config, "networks": networks}


def test_the_overlay_networks_stay_encrypted_unless_the_kernel_cannot():
    assert swarm_stack(encrypted(CONFIG))["networks"]["backend"]["driver_opts"] == {"encrypted": ""}
    plain = swarm_stack(encrypted(CONFIG), encrypt=False)["networks"]["backend"]
    assert "driver_opts" not in plain and plain["driver"] == "overlay" and plain["internal"] is True


def container(id_, service, state="running"):
    return {"Id": id_, "State": state, "Labels": {"com.docker.swarm.service.name": service}}


def test_the_first_node_running_a_web_task_ensures_the_first_admin():
    hostvars = {
        "n1": {"library_stack_containers": {"containers": [container("p1", "library_proxy"),
                                                           container("w0", "library_web", "exited")]}},
        "n2": {"library_stack_containers": {"containers": [container("w1", "library_web"),
                                                           container("x", "other_web")]}},
        "n3": {"library_stack_containers": {"containers": [container("w2", "library_web")]}},
        "n4": {},
    }
    assert swarm_web_node(["n1", "n2", "n3"], hostvars, "library") == "n2"
    assert swarm_web_node(["n1", "n4"], hostvars, "library") == ""
    assert swarm_web_containers(hostvars["n2"]["library_stack_containers"]["containers"], "library") == ["w1"]


def test_the_migrations_job_gets_webs_secrets_by_the_stacks_names():
    secrets = [{"source": "django_secret_key", "target": "django_secret_key"}, {"source": "db_password"}]
    stack_secrets = {"django_secret_key": {"name": "library_django_secret_key_1"},
                     "db_password": {"name": "library_db_password_1"}}
    assert swarm_job_secrets(secrets, stack_secrets) == [
        {"secret_name": "library_django_secret_key_1", "filename": "django_secret_key"},
        {"secret_name": "library_db_password_1", "filename": "db_password"}]  # no target: the source's name
    assert swarm_job_secrets([], stack_secrets) == []


def test_the_migrations_job_gets_a_tmp_and_webs_bind_mounts():
    volumes = [{"type": "bind", "source": "/opt/library/database-ca.pem", "target": "/ca.pem", "read_only": True},
               {"type": "volume", "source": "x", "target": "/x"}, {"type": "bind", "source": "/a", "target": "/b"}]
    assert swarm_job_mounts(volumes) == [
        {"type": "tmpfs", "target": "/tmp"},
        {"type": "bind", "source": "/opt/library/database-ca.pem", "target": "/ca.pem", "readonly": True},
        {"type": "bind", "source": "/a", "target": "/b", "readonly": False}]
    assert swarm_job_mounts([]) == [{"type": "tmpfs", "target": "/tmp"}]


def task(name, node, current="Running 2 minutes ago", desired="Running"):
    """A row of `docker stack ps --format '{{json .}}'` (docker_stack_task_info)."""
    return {"Name": name, "Node": node, "DesiredState": desired, "CurrentState": current}


def node(hostname, state="ready", availability="active"):
    """An entry of docker_node_info's nodes (docker node inspect)."""
    return {"Description": {"Hostname": hostname}, "Status": {"State": state}, "Spec": {"Availability": availability}}


TWO_NODES = [node("lab-1"), node("lab-2")]


def test_web_on_one_node_of_two_is_crowded():
    tasks = [task("library_web.1", "lab-2"), task("library_web.2", "lab-2"), task("library_proxy.x", "lab-1")]
    assert swarm_web_crowded(tasks, "library_web", TWO_NODES)


def test_web_spread_over_the_nodes_is_not_crowded():
    tasks = [task("library_web.1", "lab-1"), task("library_web.2", "lab-2"),
             task("library_web.3", "lab-1"), task("library_web.4", "lab-2")]
    assert not swarm_web_crowded(tasks, "library_web", TWO_NODES)


def test_only_running_tasks_and_usable_nodes_count():
    shut_down = task("library_web.2", "lab-1", current="Shutdown 3 minutes ago", desired="Shutdown")
    tasks = [task("library_web.1", "lab-2"), task("library_web.2", "lab-2"), shut_down]
    assert swarm_web_crowded(tasks, "library_web", TWO_NODES)
    # The other node is down or drained: sharing the one left is all Swarm can do.
    assert not swarm_web_crowded(tasks, "library_web", [node("lab-1", state="down"), node("lab-2")])
    assert not swarm_web_crowded(tasks, "library_web", [node("lab-1", availability="drain"), node("lab-2")])


def test_one_task_or_one_node_is_never_crowded():
    assert not swarm_web_crowded([task("library_web.1", "lab-2")], "library_web", TWO_NODES)
    assert not swarm_web_crowded([task("library_web.1", "lab-1"), task("library_web.2", "lab-1")],
                                 "library_web", [node("lab-1")])
    assert not swarm_web_crowded([task("library_webhook.1", "lab-1"), task("library_webhook.2", "lab-1")],
                                 "library_web", TWO_NODES)
