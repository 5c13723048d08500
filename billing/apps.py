from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register

        from .services import CONSUMER, KINDS, charges_from_event, charges_from_events

        # Only writes (charges and the year's free usage): in the claims' transaction, exactly once, a
        # batch of claims at a time.
        consumer_register(Consumer(name=CONSUMER, handle=charges_from_event, handle_many=charges_from_events,
                                   kinds=KINDS, in_transaction=True))
