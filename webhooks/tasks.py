import logging
import time

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)
_last_nudge = float("-inf")


@shared_task(acks_late=True)
def send_webhook_deliveries() -> int:
    """Attempt the webhook deliveries due (also every WEBHOOKS_SEND_SECONDS, from beat)."""
    from .services import webhook_deliveries_send

    return webhook_deliveries_send()


def deliveries_nudge() -> None:
    """After a commit that owes deliveries, wake a worker to attempt them, at most once per
    NOTIFICATION_NUDGE_SECONDS per process (as transfers.tasks.notifications_nudge does for the
    emails); whatever a skipped or lost wake-up leaves, beat sends. The delivery is its own task, so a
    slow receiver never holds up the emails' outbox."""
    global _last_nudge
    now = time.monotonic()
    if now - _last_nudge < settings.NOTIFICATION_NUDGE_SECONDS:
        return
    _last_nudge = now
    try:
        send_webhook_deliveries.delay()
    except OperationalError as error:
        logger.warning("The broker did not take the wake-up for the webhook deliveries owed (%s); beat "
                       "sends them.", error)
