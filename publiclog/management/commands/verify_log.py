from django.core.management.base import BaseCommand, CommandError

from publiclog.verification import log_breaches


class Command(BaseCommand):
    help = ("Re-derive the public log from its leaves and compare it with the stored tree and every signed "
            "checkpoint; exit non-zero on any breach.")

    def handle(self, *args, **options):
        breaches = log_breaches()
        for breach in breaches:
            self.stdout.write(breach)
        if breaches:
            raise CommandError(f"{len(breaches)} breach(es) of the public log.")
        self.stdout.write(self.style.SUCCESS("Public log sound: the leaves give every stored node and checkpoint."))
