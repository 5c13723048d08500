from celery import shared_task

from .notifications import transfer_notify
from .services import transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_transfer_notification(transfer_id: int, event_kind: str) -> int:
    return transfer_notify(transfer_id=transfer_id, event_kind=event_kind)
