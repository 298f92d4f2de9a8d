from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "circulation"
    verbose_name = "Circulation"

    def ready(self):
        from circulation.catalogue_version import watch_catalogue

        watch_catalogue()
