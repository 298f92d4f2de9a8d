"""tools/stacks/plan.py, what `make plan` prints from plan.yml's JSON report. Each report entry is
made the way plan.yml makes it, by the filter ansible/filter_plugins/plan.py from a host's
variables, so the two stay one format; describe() is then called directly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from stacks.plan import describe, migrations

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"
MIGRATE_PLAN = "Planned operations:\ncatalog.0002_book_subtitle\n    Add field subtitle to book\n"


def _filter():
    spec = importlib.util.spec_from_file_location("plan_filter", ROOT / "ansible" / "filter_plugins" / "plan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.library_plan_entry


library_plan_entry = _filter()


def entry(host: str, groups=("library",), **hostvars) -> dict:
    """HOST's report entry after plan.yml's plays set HOSTVARS."""
    return library_plan_entry({"inventory_hostname": host, "group_names": list(groups), "library_revision": SHA,
                               "base_bootstrap_user": "root", "provision_roles": ["base", "docker"], **hostvars})


def release(**changes) -> dict:
    """library/tasks/operations/plan.yml's library_plan when nothing would change, with CHANGES."""
    same = "ghcr.io/example/library:" + SHA
    return {"files": [], "image_now": same, "image_after": same, "restart_web": False, "services_down": [],
            "migrate_plan": "", **changes}


def test_nothing_to_change_anywhere_says_no_changes():
    report = [entry("web1", library_plan=release()), entry("web2", library_plan=release()),
              entry("backup1", groups=("backup",))]
    assert describe(report) == ["web1: no changes", "web2: no changes", "backup1: no changes", "plan: no changes"]


def test_a_new_server_is_logged_into_as_the_providers_user_then_gets_its_first_release():
    assert describe([entry("web1", base_login_first_contact=True)]) == [
        "web1:",
        ("  new server: log in as root, make the deploy user and the admins, apply base and docker, "
         f"then its first release, {SHA[:12]}"),
    ]


def test_a_host_whose_provisioning_stamp_changed_is_provisioned_and_the_others_say_no_changes():
    assert describe([entry("web1", provision_needed=True, library_plan=release()), entry("web2", library_plan=release())]) == [
        "web1:", "  provision: base and docker (stamp missing or changed; check mode above)", "web2: no changes"]


def test_a_new_image_rolls_web_and_names_the_migrations_it_would_apply():
    plan = release(image_now="ghcr.io/example/library:old", restart_web=True, migrate_plan=MIGRATE_PLAN,
                   files=["compose.yaml", ".env"])
    assert describe([entry("web1", library_plan=plan)]) == [
        "web1:",
        "  write compose.yaml",
        "  write .env",
        f"  web: ghcr.io/example/library:old -> ghcr.io/example/library:{SHA}, start-first",
        "  migrate: catalog.0002_book_subtitle",
    ]


def test_a_new_image_without_migrations_says_so():
    plan = release(image_now="", restart_web=True, migrate_plan="Planned operations:\n  No planned migration operations.\n")
    assert describe([entry("web1", library_plan=plan)])[1:] == [
        f"  web: (none) -> ghcr.io/example/library:{SHA}, start-first", "  migrate: nothing to apply"]


def test_new_settings_on_the_same_image_give_web_a_new_container_and_no_migration():
    assert describe([entry("web1", library_plan=release(files=[".env"], restart_web=True))]) == [
        "web1:", "  write .env", "  web: a new container with the new settings, start-first"]


def test_services_that_are_down_would_be_started():
    assert describe([entry("web1", library_plan=release(services_down=["cache", "proxy"]))]) == [
        "web1:", "  start cache (not running)", "  start proxy (not running)"]


def test_a_swarm_release_is_not_planned_and_says_so():
    assert describe([entry("web1", library_engine="swarm")]) == ["web1:", "  engine swarm: the release itself is not planned"]


def test_the_migrations_are_read_from_migrate_plan_output():
    text = MIGRATE_PLAN + "library_auth.0010_user_flags\n    Raw SQL operation -> UPDATE x.0001 ...\n"
    assert migrations(text) == ["catalog.0002_book_subtitle", "library_auth.0010_user_flags"]
    assert migrations("") == []
