"""The project's wiring: settings, root urls, the Celery app, WSGI, the admin site's index and the
demo seed. The one package that may import every app; no app imports it."""

from .celery import app as celery_app

__all__ = ["celery_app"]
