from celery import shared_task

from .notifications import mass_upload_notify, transfer_notify
from .services import mass_upload_process, transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_transfer_notification(transfer_id: int, event_kind: str) -> int:
    return transfer_notify(transfer_id=transfer_id, event_kind=event_kind)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(ConnectionError,), retry_backoff=True,
             max_retries=5)
def process_mass_upload(upload_id: int) -> str:
    return mass_upload_process(upload_id=upload_id)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_mass_upload_notification(upload_id: int) -> int:
    return mass_upload_notify(upload_id=upload_id)
