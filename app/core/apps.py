from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(sender, using, verbosity=1, **kwargs):
    """`migrate` alone prepares a database: the throttle counters' cache table included."""
    call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Library platform"

    def ready(self):
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="library-cache-table")
