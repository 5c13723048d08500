"""A month's corrections for --generators (1,000) generators, applied end to end through
corrections_approve (the service the admin's "Approve the selected corrections" action calls), then
verify_ledger.

Seeded as bench/issuance.py seeds (its seed_generators: 10 organizations of 100 generators) and issued
through issuance_run; then every generator's month is corrected through corrections_request_write (what
a corrected upload does, in one transaction), alternately more generation (a new certificate each) and
less (a shortfall each), and staff approve them all at once: the shortfalls owed from the next
issuances, or with --void voided from the certificates the owners hold (a split each).

    .venv/bin/python bench/corrections.py [--generators 1000] [--void]
"""

import argparse
import datetime
import importlib.util
import time
from decimal import Decimal
from pathlib import Path

from common import setup_django


def seeding():
    """bench/issuance.py, as a module of its own (its name is the app's)."""
    spec = importlib.util.spec_from_file_location("bench_issuance", Path(__file__).with_name("issuance.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generators", type=int, default=1_000)
    parser.add_argument("--void", action="store_true", help="void the shortfalls instead of owing them")
    options = parser.parse_args()
    setup_django("registry_bench_corrections", fresh=True)

    from django.core.management import call_command
    from django.db import transaction

    from issuance.adjustments import CorrectionWanted, corrections_approve, corrections_request_write
    from issuance.models import Correction, GenerationReport, Issuance
    from issuance.services import issuance_run
    from portal.celery import app as celery_app
    from registry.models import Organization, User

    month = datetime.date(2025, 1, 1)
    started = time.perf_counter()
    staff = User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    seeding().seed_generators(options.generators, staff=staff, month=month)
    run = issuance_run(user=staff, reports=GenerationReport.objects.filter(month=month))
    print(f"seeded and issued {len(run.issued):,} generators' month in {time.perf_counter() - started:.1f} s")

    issuances = list(Issuance.objects.filter(month=month).select_related("generator").order_by("generator_id"))
    started = time.perf_counter()
    for organization_id in sorted({issuance.generator.organization_id for issuance in issuances}):
        mine = [issuance for issuance in issuances if issuance.generator.organization_id == organization_id]
        with transaction.atomic():  # one corrected upload per organization
            corrections_request_write(
                organization=Organization(pk=organization_id), user=staff, wanted=[CorrectionWanted(
                    issuance.pk, issuance.mwh + (Decimal("12.345") if index % 2 else Decimal("-7.5")))
                    for index, issuance in enumerate(mine)])
    print(f"requested {Correction.objects.count():,} corrections in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    decided = corrections_approve(user=staff, corrections=Correction.objects.filter(status="requested"),
                                  note="Bench", shortfall_by="void" if options.void else "debit")
    seconds = time.perf_counter() - started
    celery_app.control.purge()  # nothing of the benchmark's is to be sent
    print(f"approved {len(decided.approved):,} corrections ({decided.issued:,} certificates issued, a shortfall of "
          f"{decided.shortfall:,} {'voided' if options.void else 'owed'}, {len(decided.skipped)} left) "
          f"in {seconds:.1f} s (goal: 30 s)")
    started = time.perf_counter()
    call_command("verify_ledger")
    print(f"verify_ledger clean in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
