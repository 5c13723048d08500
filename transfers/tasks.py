from celery import shared_task

from utilities.wakeups import Wakeup

from .notifications import transfer_notifications_send
from .services import transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_transfer_notifications() -> int:
    """Send the transfer emails owed (also every NOTIFICATION_SEND_SECONDS, from beat)."""
    return transfer_notifications_send()


# After a commit that owes emails (also sent every NOTIFICATION_SEND_SECONDS by beat).
notifications_nudge = Wakeup(send_transfer_notifications, owed="the emails owed (in the outbox)")
