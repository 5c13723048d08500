from django.core.management.base import BaseCommand

from publiclog.keys import new_signing_key


class Command(BaseCommand):
    help = "Print a new Ed25519 signing key for the public log, as PUBLICLOG_SIGNING_KEY takes it (keep it secret)."

    def handle(self, *args, **options):
        self.stdout.write(new_signing_key())
