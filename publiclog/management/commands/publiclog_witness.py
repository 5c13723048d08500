from django.core.management.base import BaseCommand

from publiclog.selectors import witnessing


class Command(BaseCommand):
    help = ("This registry as a witness of other logs: print its witness verifier key (what a log configures in "
            "PUBLICLOG_WITNESSES, with this registry's /log/witness/add-checkpoint) and the logs it witnesses.")

    def handle(self, *args, **options):
        state = witnessing()
        self.stdout.write(state["witness_key"])
        for log in state["witnessed"]:
            self.stdout.write(f"{log['origin']}: cosigned up to {log['size']} leaves, last at {log['cosigned_at']}")
