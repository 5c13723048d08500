from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class RegistryConfig(AppConfig):
    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import sessions  # noqa: F401  (its receiver starts a session's clocks at each sign-in)


class RegistryAdminConfig(AdminConfig):
    """The admin site for registry staff, with the registry's dashboard on its index."""

    default_site = "registry.admin_site.RegistryAdminSite"
