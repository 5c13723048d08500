from celery import shared_task
from django.conf import settings

from utilities.upload_runs import UploadBusy

from .notifications import generation_upload_notify
from .services import generation_upload_process, generation_uploads_requeue_stalled


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def process_generation_upload(self, upload_id: int) -> str:
    """As mass_uploads.tasks.process_mass_upload: a killed worker's attempt is counted and limited by
    the service; a busy upload is retried, never dropped (the sweep re-queues a lost message)."""
    try:
        return generation_upload_process(upload_id=upload_id)
    except UploadBusy as busy:  # another task holds the upload: come back later
        if self.request.retries >= settings.MASS_UPLOAD_BUSY_RETRIES:
            return "busy"
        raise self.retry(exc=busy, countdown=settings.MASS_UPLOAD_BUSY_RETRY_SECONDS) from busy


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_generation_upload_notification(upload_id: int) -> int:
    return generation_upload_notify(upload_id=upload_id)


@shared_task(acks_late=True)
def requeue_stalled_generation_uploads() -> int:
    return len(generation_uploads_requeue_stalled())

