from celery import shared_task
from django.conf import settings

from utilities.wakeups import Wakeup


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def process_generation_upload(self, upload_id: int) -> str:
    """As mass_uploads.tasks.process_mass_upload: a killed worker's attempt is counted and limited by
    the service; a busy upload is retried, never dropped (the sweep re-queues a lost message)."""
    from utilities.upload_runs import UploadBusy

    from .services import generation_upload_process

    try:
        return generation_upload_process(upload_id=upload_id)
    except UploadBusy as busy:  # another task holds the upload: come back later
        if self.request.retries >= settings.MASS_UPLOAD_BUSY_RETRIES:
            return "busy"
        raise self.retry(exc=busy, countdown=settings.MASS_UPLOAD_BUSY_RETRY_SECONDS) from busy


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_generation_upload_notification(upload_id: int) -> int:
    from .notifications import generation_upload_notify

    return generation_upload_notify(upload_id=upload_id)


@shared_task(acks_late=True)
def requeue_stalled_generation_uploads() -> int:
    from .services import generation_uploads_requeue_stalled

    return len(generation_uploads_requeue_stalled())


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_issuance_notices() -> int:
    """Email each organization what was issued to it (the issuances not yet told; also every
    NOTIFICATION_SEND_SECONDS, from beat)."""
    from .notifications import issuance_notices_send

    return issuance_notices_send()


# After an issuance commits (also sent every NOTIFICATION_SEND_SECONDS by beat).
issuance_notices_nudge = Wakeup(send_issuance_notices, owed="the issuance emails owed")
