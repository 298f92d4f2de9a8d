"""The readiness checks of /readyz, in full: for an operator on the host
(`docker compose exec web python manage.py readiness`), where exception text and migration
names may be shown. /readyz itself only says each check's state."""

from django.core.management.base import BaseCommand, CommandError

from core import health


class Command(BaseCommand):
    help = "Run /readyz's checks and print each one's state and details; fails when not ready."
    # System checks are not readiness checks, and must not stop this one when the database
    # is down.
    requires_system_checks = []

    def handle(self, *args, **options):
        checks = health.run_checks()
        for name, check in checks.items():
            line = f"{name}: {check.state}"
            self.stdout.write(f"{line}: {check.detail}" if check.detail else line)
        failed = [name for name, check in checks.items() if check.blocks]
        if failed:
            raise CommandError(f"not ready: {', '.join(failed)}")
        degraded = [name for name, check in checks.items() if not check.ok]
        self.stdout.write(f"ready, degraded: {', '.join(degraded)}" if degraded else "ready")
