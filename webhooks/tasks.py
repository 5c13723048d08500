from celery import shared_task

from .services import webhook_deliveries_send


@shared_task(acks_late=True)
def send_webhook_deliveries() -> int:
    """Attempt the webhook deliveries due (also every WEBHOOKS_SEND_SECONDS, from beat). A task of its
    own, apart from the emails' outbox: a slow receiver never holds up the emails."""
    return webhook_deliveries_send()
