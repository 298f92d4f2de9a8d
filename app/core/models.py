# No models. This module exists because Django sends post_migrate only to apps that have
# one, and core.apps keeps the earlier releases' throttle table on post_migrate.
