from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend


class ConsoleAndFileEmailBackend(FileBackend):
    """Development mail: print each message and keep a copy under .data/mail/."""

    def send_messages(self, email_messages):
        ConsoleBackend().send_messages(email_messages)
        return super().send_messages(email_messages)
