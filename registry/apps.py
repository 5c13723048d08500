from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class RegistryConfig(AppConfig):
    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"


class RegistryAdminConfig(AdminConfig):
    """The admin site for registry staff, with the registry's dashboard on its index."""

    default_site = "registry.admin_site.RegistryAdminSite"
