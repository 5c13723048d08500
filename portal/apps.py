from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    """The project's own app: its management commands (seed_demo)."""

    name = "portal"


class PortalAdminConfig(AdminConfig):
    """The admin site for registry staff, with the registry's dashboard on its index."""

    default_site = "portal.admin_site.RegistryAdminSite"
