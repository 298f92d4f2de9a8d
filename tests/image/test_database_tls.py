"""The image against an external PostgreSQL over verified TLS, as a deploy with
library_database_url (sslmode=verify-full) and library_database_ca_file runs it: the CA file
mounted read-only at /etc/library/database-ca.pem and named by sslrootcert in DATABASE_URL."""

import json

from conftest import TLS_DB_HOST
from image_helpers import HARDENING

CA_IN_CONTAINER = "/etc/library/database-ca.pem"  # compose.yaml's mount target
# The app's own connection (its settings' DATABASE_URL): is it encrypted?
SSL_IN_USE = (
    "import json; from django.db import connection as c; cur = c.cursor(); "
    "cur.execute('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()'); "
    "print(json.dumps(cur.fetchone()))"
)


def run_app(run_container, image, app_env, tls_database, ca, *command, host=TLS_DB_HOST, name):
    url = tls_database["url"].replace(TLS_DB_HOST, host)
    env = {**app_env, "DATABASE_URL": f"{url}?sslmode=verify-full&sslrootcert={CA_IN_CONTAINER}"}
    _, result = run_container(
        *HARDENING, "--add-host", f"{host}:host-gateway",
        "--volume", f"{ca}:{CA_IN_CONTAINER}:ro",
        "--entrypoint", "python", image, "manage.py", *command,
        env=env, name=name, detach=False, timeout=180,
    )
    return result


def test_app_connects_with_verify_full_and_the_mounted_ca(image, app_env, tls_database, run_container):
    result = run_app(run_container, image, app_env, tls_database, tls_database["ca"],
                     "shell", "-c", SSL_IN_USE, name="tls-ok")
    assert result.returncode == 0, result.stderr[-2000:]
    ssl, version = json.loads(result.stdout.splitlines()[-1])
    assert ssl is True and version.startswith("TLS"), (ssl, version)


def test_a_certificate_from_another_ca_is_refused(image, app_env, tls_database, run_container):
    result = run_app(run_container, image, app_env, tls_database, tls_database["other_ca"],
                     "shell", "-c", SSL_IN_USE, name="tls-other-ca")
    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr, result.stderr[-2000:]


def test_a_certificate_for_another_host_name_is_refused(image, app_env, tls_database, run_container):
    # The right CA, but the server is reached under a name its certificate does not carry.
    result = run_app(run_container, image, app_env, tls_database, tls_database["ca"],
                     "shell", "-c", SSL_IN_USE, host="other-name.tls.invalid", name="tls-other-host")
    assert result.returncode != 0
    assert "does not match host name" in result.stderr, result.stderr[-2000:]
