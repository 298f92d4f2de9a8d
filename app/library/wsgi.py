"""WSGI entry point: gunicorn serves `library.wsgi:application`."""

import os

from library.startup import GUNICORN_WORKER_BOOT_ERROR, exit_on_bad_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
exit_on_bad_settings(GUNICORN_WORKER_BOOT_ERROR)

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after the settings check

application = get_wsgi_application()
