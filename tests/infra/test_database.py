"""The bundled database on a lab host: the app connects as its own least-privilege role, which
owns the app's database and schema but is no superuser, and the superuser's password is in
the db container only, never in web's or migrate's environment."""

import json
import urllib.parse

import pytest
from conftest import compose_containers

APP_ROLE = "library"
# web's own connection, as the app makes it (the settings' DATABASE_URL).
WHO_AM_I = (
    "import json; from django.db import connection as c; cur = c.cursor(); "
    "cur.execute(\"SELECT current_user, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, "
    "r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user\"); "
    "print(json.dumps(cur.fetchone()))"
)


@pytest.fixture(scope="module")
def containers(host):
    """{service: docker inspect} of the running containers; migrate (a one-shot, removed after
    each run) as compose starts it: {"Config": {"Env": [...]}} from compose config."""
    found = compose_containers(host)
    assert {"db", "web"} <= set(found), sorted(found)
    config = json.loads(host.check_output("sudo sh -c 'cd /opt/library && docker compose config --format json'"))
    migrate_env = config["services"]["migrate"]["environment"]
    found["migrate"] = {"Config": {"Env": [f"{k}={v}" for k, v in migrate_env.items()]}}
    return found


def environment(container):
    return dict(item.split("=", 1) for item in container["Config"]["Env"])


def db_sql(host, containers, sql):
    """A query as the superuser over the db container's own socket (no password needed there)."""
    name = containers["db"]["Name"].lstrip("/")
    return host.check_output(f"sudo docker exec {name} psql -U postgres -d library -tAX -c \"{sql}\"")


def test_web_connects_as_the_app_role_which_is_no_superuser(host, containers):
    name = containers["web"]["Name"].lstrip("/")
    out = host.check_output(f"sudo docker exec {name} python manage.py shell -c '{WHO_AM_I}'")
    user, superuser, createdb, createrole, replication, bypassrls = json.loads(out.splitlines()[-1])
    assert user == APP_ROLE
    assert (superuser, createdb, createrole, replication, bypassrls) == (False, False, False, False, False)


@pytest.mark.parametrize("service", ["web", "migrate"])
def test_app_database_url_names_the_app_role(containers, service):
    url = urllib.parse.urlsplit(environment(containers[service])["DATABASE_URL"])
    assert url.username == APP_ROLE
    assert url.hostname == "db"


def test_app_role_owns_the_database_and_its_schema(host, containers):
    assert db_sql(host, containers, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'library'") == APP_ROLE
    assert db_sql(host, containers, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'") == APP_ROLE
    # The migrations ran as that role: it owns every table they made.
    owners = db_sql(host, containers, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners.split() == [APP_ROLE], owners


def test_superuser_is_a_separate_role(host, containers):
    superusers = db_sql(host, containers, "SELECT rolname FROM pg_roles WHERE rolsuper ORDER BY 1").split()
    assert superusers == ["postgres"], superusers


@pytest.mark.parametrize("service", ["web", "migrate"])
def test_superuser_password_is_not_in_the_app_environment(containers, service):
    superuser_password = environment(containers["db"])["POSTGRES_PASSWORD"]
    assert len(superuser_password) >= 12
    env = environment(containers[service])
    assert not [key for key in env if key.startswith("POSTGRES_")], sorted(env)
    # Not under another name either (e.g. inside DATABASE_URL); the value is never printed.
    leaks = [key for key, value in env.items()
             if superuser_password in value or urllib.parse.quote(superuser_password, safe="") in value]
    assert leaks == [], f"the superuser password is in {service}'s {leaks}"


def test_app_password_differs_from_the_superuser_password(containers):
    db_env = environment(containers["db"])
    assert db_env["LIBRARY_DB_PASSWORD"] and db_env["LIBRARY_DB_PASSWORD"] != db_env["POSTGRES_PASSWORD"]
