from django.core.management.base import BaseCommand

from publiclog.services import checkpoint_cosignatures_ask


class Command(BaseCommand):
    help = ("Ask the configured witnesses (PUBLICLOG_WITNESSES) to cosign the log's latest checkpoint now, as beat "
            "does after each signing; print what each answered.")

    def handle(self, *args, **options):
        outcomes = checkpoint_cosignatures_ask()
        if not outcomes:
            self.stdout.write("No witness is configured, or the log has no checkpoint yet.")
        for witness, outcome in outcomes.items():
            self.stdout.write(f"{witness}: {outcome}")
