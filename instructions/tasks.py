from celery import shared_task

from .notifications import instruction_notices_send


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_instruction_notices() -> int:
    """Email the managers of each organization whose instructions were skipped (the owed notices)."""
    return instruction_notices_send()
