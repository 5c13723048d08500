import logging
import time

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError

from .notifications import mass_upload_notify, transfer_notifications_send
from .services import UploadBusy, mass_upload_process, mass_uploads_requeue_stalled, transfers_expire


@shared_task(acks_late=True)
def expire_pending_transfers() -> int:
    return transfers_expire()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_transfer_notifications() -> int:
    """Send the transfer emails owed (also every NOTIFICATION_SEND_SECONDS, from beat)."""
    return transfer_notifications_send()


logger = logging.getLogger(__name__)
_last_nudge = float("-inf")
# While the broker is away a publish fails only after about a second of retries: wait this long
# before trying again, rather than make every transfer pay it.
NUDGE_BACKOFF_SECONDS = 30


def notifications_nudge() -> None:
    """After a commit that owes emails, wake a worker to send them: at most one message per
    NOTIFICATION_NUDGE_SECONDS per process, so a burst of transfers costs one broker publish, and
    whatever a skipped nudge leaves is sent by the next one or by beat. The change has committed:
    a broker that is away is logged, not shown to the user, and the emails wait in the outbox."""
    global _last_nudge
    now = time.monotonic()
    if now - _last_nudge < settings.NOTIFICATION_NUDGE_SECONDS:
        return
    _last_nudge = now
    try:
        send_transfer_notifications.delay()
    except OperationalError as error:
        _last_nudge = now + NUDGE_BACKOFF_SECONDS
        logger.warning("The broker did not take the wake-up for the emails owed (%s); they wait in the "
                       "outbox for the next wake-up or beat.", error)


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


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_mass_upload_notification(upload_id: int) -> int:
    return mass_upload_notify(upload_id=upload_id)
