from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register
        from events.models import Event

        from .sending import registry_message_send

        # Sends: with no transaction open, at least once; the messages' fixed ids make a repeat harmless.
        # Exports, and the decisions on imports (only those another registry sent are answered).
        consumer_register(Consumer(
            name="registry_messages", handle=registry_message_send,
            kinds=frozenset({Event.Kind.TRANSFER_SUBMITTED, Event.Kind.IMPORT_ACCEPTED, Event.Kind.IMPORT_REJECTED}),
            skips=lambda kind, data: kind == Event.Kind.TRANSFER_SUBMITTED and data.get("transfer_kind") != "export"))
