from django.apps import AppConfig
from django.core.management.commands import createcachetable
from django.db.models.signals import post_migrate

# Releases before the shared cache (Valkey) kept DRF's throttle counters in this database
# cache table, which their `migrate` made and which only they read. It is still made (empty)
# so that rolling back to one of them works on a database this release made first: without
# it, their every API request would fail. Drop it once no such release can be rolled back to.
EARLIER_THROTTLE_TABLE = "library_cache"


def keep_the_earlier_throttle_table(sender, using, verbosity=1, **kwargs):
    command = createcachetable.Command()
    command.verbosity = max(0, verbosity - 1)
    command.create_table(using, EARLIER_THROTTLE_TABLE, dry_run=False)  # kept if it exists


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Library platform"

    def ready(self):
        post_migrate.connect(
            keep_the_earlier_throttle_table, sender=self, dispatch_uid="library-cache-table"
        )
