"""Create the first administrator from DJANGO_ADMIN_* variables; safe to run on every deploy.

No-op when DJANGO_ADMIN_USERNAME is unset. An existing user is left as it is (its password
may have been changed since), so re-running never resets anything. The password must pass
AUTH_PASSWORD_VALIDATORS, as one set in the admin must: a weak one stops the command with
one line naming the variable and what the validators said.
"""

import os
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the first superuser from DJANGO_ADMIN_USERNAME/EMAIL/PASSWORD (idempotent)."

    def add_arguments(self, parser):
        # Deploys pass the password on stdin: an environment variable given to
        # `docker compose exec --env` shows in the host's process list.
        parser.add_argument(
            "--password-stdin", action="store_true",
            help="read the password from the first line of standard input",
        )

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_ADMIN_USERNAME", "").strip()
        if not username:
            self.stdout.write("ensure_admin: DJANGO_ADMIN_USERNAME unset, nothing to do")
            return
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"ensure_admin: user {username!r} already exists, unchanged")
            return
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            source = "DJANGO_ADMIN_PASSWORD (the line on stdin)"
        else:
            password = os.environ.get("DJANGO_ADMIN_PASSWORD", "")
            source = "DJANGO_ADMIN_PASSWORD"
        if not password:
            raise CommandError(
                "DJANGO_ADMIN_PASSWORD (or a line on stdin with --password-stdin) is required "
                "when DJANGO_ADMIN_USERNAME is set"
            )
        email = os.environ.get("DJANGO_ADMIN_EMAIL", "").strip()
        try:
            # The user it would be: the similarity validator compares the name and address.
            password_validation.validate_password(
                password, User(username=username, email=email))
        except ValidationError as exc:
            raise CommandError(f"{source} is refused: {' '.join(exc.messages)}") from None
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"ensure_admin: created superuser {username!r}")
