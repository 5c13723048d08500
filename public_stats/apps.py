from django.apps import AppConfig


class PublicStatsConfig(AppConfig):
    name = "public_stats"
    verbose_name = "public statistics"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register

        from .services import CONSUMER, KINDS, event_skipped, public_stats_apply, public_stats_apply_one

        # Only writes (the summary tables): in the claims' transaction, exactly once, a batch of claims at a time.
        consumer_register(Consumer(name=CONSUMER, handle=public_stats_apply_one, handle_many=public_stats_apply,
                                   kinds=KINDS, in_transaction=True, skips=event_skipped))
