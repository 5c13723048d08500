from django.apps import AppConfig


class PublicStatsConfig(AppConfig):
    name = "public_stats"
    verbose_name = "public statistics"
