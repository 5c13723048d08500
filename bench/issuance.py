"""Issue one month for --generators (5,000) approved generators, end to end through issuance_run
(the service the admin's "Issue the selected month(s)" action calls), then verify_ledger.

The generators, their owners' accounts and one submitted report each are seeded with bulk_create
(the benchmark measures the issuance, not the seeding): 50 organizations of 100 generators, each
organization's certificates issued into one open active account; MWh with three decimals, so the
fraction is carried.

--instructions N (1 or 2) gives each generator N standing instructions before the run. They come
with the instructions branch: seed_instructions() below is the place the coordinator wires at merge.

    .venv/bin/python bench/issuance.py [--generators 5000] [--instructions 0]
"""

import argparse
import datetime
import time
from decimal import Decimal

from common import setup_django

GENERATORS_PER_ORGANIZATION = 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generators", type=int, default=5_000)
    parser.add_argument("--instructions", type=int, default=0, choices=[0, 1, 2],
                        help="standing instructions per generator (wired when the instructions app is merged)")
    options = parser.parse_args()
    setup_django("registry_bench_issuance", fresh=True)

    from django.core.management import call_command
    from django.db.models import Sum

    from issuance.models import GenerationReport, Issuance
    from issuance.services import issuance_run
    from portal.celery import app as celery_app
    from registry.models import User

    month = datetime.date(2025, 1, 1)
    started = time.perf_counter()
    staff = User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    generators = seed_generators(options.generators, staff=staff, month=month)
    print(f"seeded {len(generators):,} approved generators with a submitted month each in "
          f"{time.perf_counter() - started:.1f} s")
    if options.instructions:
        seed_instructions(generators, options.instructions)

    reports = GenerationReport.objects.filter(month=month, status=GenerationReport.Status.SUBMITTED)
    started = time.perf_counter()
    run = issuance_run(user=staff, reports=reports)
    seconds = time.perf_counter() - started
    celery_app.control.purge()  # nothing of the benchmark's is to be sent
    certificates = Issuance.objects.aggregate(total=Sum("quantity"))["total"]
    print(f"issued {len(run.issued):,} generator-months ({certificates:,} certificates, {len(run.skipped)} left) "
          f"with {options.instructions} standing instruction(s) each in {seconds:.1f} s "
          f"(goal: 30 s with one or two instructions; 12 s without)")
    started = time.perf_counter()
    call_command("verify_ledger")
    print(f"verify_ledger clean in {time.perf_counter() - started:.1f} s")


def seed_generators(count: int, *, staff, month: datetime.date) -> list:
    from accounts.models import Account
    from certificates.models import FuelType, Generator
    from issuance.models import GenerationReport
    from registry.models import Organization

    organizations = Organization.objects.bulk_create([
        Organization(name=f"Bench Generation {index}", contact_email=f"owner{index}@example.org")
        for index in range((count + GENERATORS_PER_ORGANIZATION - 1) // GENERATORS_PER_ORGANIZATION)])
    accounts = Account.objects.bulk_create([Account(organization=organization, name="Issuance")
                                            for organization in organizations])
    generators = Generator.objects.bulk_create([Generator(
        organization=accounts[index // GENERATORS_PER_ORGANIZATION].organization,
        account=accounts[index // GENERATORS_PER_ORGANIZATION], code=f"B{index:05d}", name=f"Bench Wind {index}",
        fuel_type=FuelType.WIND, state="MN", eligibilities=["MN RES"], status=Generator.Status.APPROVED,
    ) for index in range(count)], batch_size=2_000)
    GenerationReport.objects.bulk_create([GenerationReport(
        generator=generator, month=month, mwh=Decimal(1_000 + index % 5_000) + Decimal(index % 1_000) / 1_000,
        submitted_by=staff,
    ) for index, generator in enumerate(generators)], batch_size=2_000)
    return generators


def seed_instructions(generators: list, per_generator: int) -> None:
    """One or two standing instructions per generator: wired by the coordinator when the
    instructions branch is merged (its services create them)."""
    raise SystemExit("--instructions needs the instructions app (not merged on this branch); run without it.")


if __name__ == "__main__":
    main()
