from celery import shared_task


@shared_task(acks_late=True)
def purge_idempotent_requests() -> int:
    """Delete the API's stored answers older than a day (beat, hourly)."""
    from .services import idempotent_requests_purge

    return idempotent_requests_purge()
