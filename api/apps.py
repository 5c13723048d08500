from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "The account-holder API"

    def ready(self):
        from . import authentication  # noqa: F401  (the schema's security scheme, an extension registered on import)
