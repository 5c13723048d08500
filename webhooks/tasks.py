from celery import shared_task

from utilities.wakeups import Wakeup


@shared_task(acks_late=True)
def send_webhook_deliveries() -> int:
    """Attempt the webhook deliveries due (also every WEBHOOKS_SEND_SECONDS, from beat). A task of its
    own, apart from the emails' outbox: a slow receiver never holds up the emails."""
    from .services import webhook_deliveries_send

    return webhook_deliveries_send()


# After a commit that owes deliveries.
deliveries_nudge = Wakeup(send_webhook_deliveries, owed="the webhook deliveries owed")
