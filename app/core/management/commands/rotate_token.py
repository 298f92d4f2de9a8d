"""Replace a user's API token: the old one stops working, the new one is printed once.

Prints the key alone on stdout, so it can go straight into a secret store:
`docker compose exec web python manage.py rotate_token robot | pass insert -m library/robot`.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core import auth


class Command(BaseCommand):
    help = "Give USERNAME a new API token (revoking the old one) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"rotate_token: no user named {username!r}") from None
        if not user.is_active:
            raise CommandError(f"rotate_token: user {username!r} is inactive")
        self.stdout.write(auth.rotate(user).key)
