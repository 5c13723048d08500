from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Emails"

    def ready(self) -> None:
        from events.consumers import Consumer, consumer_register

        from .consumer import EMAILS, emails_send, not_emailed

        # Sends: runs with no transaction open, at least once (events.consumers.Consumer).
        consumer_register(Consumer(name="emails", handle=emails_send, kinds=frozenset(EMAILS),
                                   skips=not_emailed))
