from django.apps import AppConfig


class MassUploadsConfig(AppConfig):
    name = "mass_uploads"
