from celery import shared_task

from .services import idempotent_requests_purge


@shared_task(acks_late=True)
def purge_idempotent_requests() -> int:
    """Delete the API's stored answers older than a day (beat, hourly)."""
    return idempotent_requests_purge()
