"""The mass uploads' worker tasks: process one upload, re-queue stalled ones (its emails are the
notifications consumer's, from the upload's upload.finished event)."""

from celery import shared_task
from django.conf import settings

from utilities.upload_runs import UploadBusy

from .services import mass_upload_process, mass_uploads_requeue_stalled


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def process_mass_upload(self, upload_id: int) -> str:
    """A pool child killed mid-upload puts the message back at once (reject_on_worker_lost); a whole
    worker killed leaves it to the broker's visibility timeout and, sooner, to the stalled-upload
    sweep. Either way the upload's attempts are counted and limited by the service."""
    try:
        return mass_upload_process(upload_id=upload_id)
    except UploadBusy as busy:
        # Another task holds the upload (or its dead worker's session has not ended yet): come back
        # later; never drop it. The sweep re-queues it too if this message is lost.
        if self.request.retries >= settings.MASS_UPLOAD_BUSY_RETRIES:
            return "busy"
        raise self.retry(exc=busy, countdown=settings.MASS_UPLOAD_BUSY_RETRY_SECONDS) from busy


@shared_task(acks_late=True)
def requeue_stalled_mass_uploads() -> int:
    return len(mass_uploads_requeue_stalled())

