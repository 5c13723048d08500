import time

from celery import shared_task
from django.conf import settings

from .notifications import mass_upload_notify, transfer_notifications_send
from .services import mass_upload_process, transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_transfer_notifications() -> int:
    """Send the transfer emails owed (also every NOTIFICATION_SEND_SECONDS, from beat)."""
    return transfer_notifications_send()


_last_nudge = float("-inf")


def notifications_nudge() -> None:
    """After a commit that owes emails, wake a worker to send them: at most one message per
    NOTIFICATION_NUDGE_SECONDS per process, so a burst of transfers costs one broker publish, and
    whatever a skipped nudge leaves is sent by the next one or by beat."""
    global _last_nudge
    now = time.monotonic()
    if now - _last_nudge < settings.NOTIFICATION_NUDGE_SECONDS:
        return
    _last_nudge = now
    send_transfer_notifications.delay()


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(ConnectionError,), retry_backoff=True,
             max_retries=5)
def process_mass_upload(upload_id: int) -> str:
    return mass_upload_process(upload_id=upload_id)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_mass_upload_notification(upload_id: int) -> int:
    return mass_upload_notify(upload_id=upload_id)
