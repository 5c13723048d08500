from celery import shared_task

from .emails import endpoint_disabled_email_send
from .services import webhook_deliveries_send


@shared_task(acks_late=True)
def send_webhook_deliveries() -> int:
    """Attempt the webhook deliveries due (also every WEBHOOKS_SEND_SECONDS, from beat). A task of its
    own, apart from the emails' outbox: a slow receiver never holds up the emails."""
    return webhook_deliveries_send()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_endpoint_disabled_email(endpoint_id: int) -> int:
    """Tell an endpoint's organization's managers that its receiver's 410 disabled it (outbound queue)."""
    return endpoint_disabled_email_send(endpoint_id=endpoint_id)
