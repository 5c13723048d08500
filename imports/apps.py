from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register
        from events.models import Event

        from .sending import export_send

        # Sends: with no transaction open, at least once; the messages' fixed ids make a repeat harmless.
        consumer_register(Consumer(
            name="registry_messages", handle=export_send, kinds=frozenset({Event.Kind.TRANSFER_SUBMITTED}),
            skips=lambda kind, data: data.get("transfer_kind") != "export"))
