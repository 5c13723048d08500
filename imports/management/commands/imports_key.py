from django.core.management.base import BaseCommand

from utilities.signing_keys import ed25519_new


class Command(BaseCommand):
    help = ("Print a new Ed25519 signing key for the messages to other registries, as IMPORTS_SIGNING_KEY takes it "
            "(keep it secret; the admin's \"Registries running this project\" shows its public half).")

    def handle(self, *args, **options):
        self.stdout.write(ed25519_new())
