from django.core.management.base import BaseCommand, CommandError

from ledger.verification import CHECKS, app_check_breaches, app_checks, ledger_breaches
from utilities.display import count_text


class Command(BaseCommand):
    help = ("Check every ledger rule over the whole database, and the checks the apps register (the public log's "
            "verify_log); exit non-zero on any breach.")

    def handle(self, *args, **options):
        breaches = ledger_breaches() + app_check_breaches()
        for breach in breaches:
            self.stdout.write(breach)
        if breaches:
            raise CommandError(f"{count_text(len(breaches), 'breach', 'breaches')} of the ledger rules.")
        also = f", and {', '.join(app_checks())}" if app_checks() else ""
        self.stdout.write(self.style.SUCCESS(f"Ledger sound: all {len(CHECKS)} rules hold{also}."))
