from django.core.management.base import BaseCommand

from public_stats.services import public_stats_rebuild


class Command(BaseCommand):
    help = ("Recompute the public statistics' summary tables from the ledger's certificates and transfers (a new "
            "install, an audit); the public_stats consumer of the events goes on from where the count stops.")

    def handle(self, *args, **options) -> None:
        rows = public_stats_rebuild()
        self.stdout.write(f"The public statistics were rebuilt: {rows:,} monthly rows.")
