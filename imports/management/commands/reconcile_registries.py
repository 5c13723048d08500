import datetime

from django.core.management.base import BaseCommand, CommandError

from imports.reconciling import GRACE, registries_reconcile


class Command(BaseCommand):
    help = ("Compare, with every registry running this project, what was sent to it and received from it with what "
            "it says it received and sent; record the comparison for staff (the admin's Reconciliations, and an "
            "email to the admins when they differ). Exits non-zero on a difference or a failure.")

    def add_arguments(self, parser):
        parser.add_argument("--grace-minutes", type=int, default=int(GRACE.total_seconds() // 60),
                            help="Leave out exports changed on either side this recently (default: %(default)s).")

    def handle(self, *args, grace_minutes: int, **options):
        records = registries_reconcile(grace=datetime.timedelta(minutes=grace_minutes))
        for record in records:
            problem = f"; {record.problem}" if record.problem else ""
            self.stdout.write(f"{record.tracking_system.code}: {record.compared} exports compared, "
                              f"{len(record.differences)} differences{problem}")
            for difference in record.differences:
                self.stdout.write(f"  {difference}")
        if any(record.differences or record.problem for record in records):
            raise CommandError("The registries differ, or could not be compared; see above.")
