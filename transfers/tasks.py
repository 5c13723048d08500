from celery import shared_task

from .services import transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()

