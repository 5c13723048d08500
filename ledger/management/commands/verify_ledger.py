from django.core.management.base import BaseCommand, CommandError

from ledger.verification import CHECKS, ledger_breaches
from utilities.display import count_text


class Command(BaseCommand):
    help = "Check every ledger rule over the whole database; exit non-zero on any breach."

    def handle(self, *args, **options):
        breaches = ledger_breaches()
        for breach in breaches:
            self.stdout.write(breach)
        if breaches:
            raise CommandError(f"{count_text(len(breaches), 'breach', 'breaches')} of the ledger rules.")
        self.stdout.write(self.style.SUCCESS(f"Ledger sound: all {len(CHECKS)} rules hold."))
