import logging

from celery import shared_task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_instruction_notices() -> int:
    """Email the managers of each organization whose instructions were skipped (the owed notices)."""
    from .notifications import instruction_notices_send

    return instruction_notices_send()


def instruction_notices_nudge() -> None:
    """After an issuance that skipped instructions commits, wake a worker to send the notices. A
    broker that is away is logged; the notices stay owed (the skipped runs) for the next wake-up or beat."""
    try:
        send_instruction_notices.delay()
    except OperationalError as error:
        logger.warning("The broker did not take the wake-up for the instruction notices owed (%s); beat sends "
                       "them within NOTIFICATION_SEND_SECONDS.", error)
