from celery import shared_task

from .notifications import transfer_notifications_send
from .services import transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_transfer_notifications() -> int:
    """Send the transfer emails owed (also every NOTIFICATION_SEND_SECONDS, from beat)."""
    return transfer_notifications_send()
