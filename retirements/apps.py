from django.apps import AppConfig


class RetirementsConfig(AppConfig):
    name = "retirements"
