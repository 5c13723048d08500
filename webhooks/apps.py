from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register

        from .services import EVENTS_CONSUMED, webhook_deliveries_owe

        # Only writes (the deliveries owed; a task sends them): in the claim's transaction, exactly once.
        consumer_register(Consumer(name="webhooks", handle=webhook_deliveries_owe, kinds=EVENTS_CONSUMED,
                                   in_transaction=True))
