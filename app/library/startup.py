"""Turn a configuration error into one line on stderr instead of a traceback.

Settings raise ImproperlyConfigured naming the environment variable; an operator reading
`docker logs` should see that line alone, and the process should stop.
"""

import sys

from django.core.exceptions import ImproperlyConfigured

# Gunicorn halts the whole server (instead of respawning workers forever) when a worker
# exits with this code while booting.
GUNICORN_WORKER_BOOT_ERROR = 3


def exit_on_bad_settings(exit_code: int = 1) -> None:
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the access imports the settings module
    except ImproperlyConfigured as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(exit_code)
