from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import sessions  # noqa: F401  (its receiver starts a session's clocks at each sign-in)

