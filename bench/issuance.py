"""Issue one month for --generators (5,000) approved generators, end to end through issuance_run
(the service the admin's "Issue the selected months" action calls), then verify_ledger.

The generators, their owners' accounts and one submitted report each are seeded with bulk_create
(the benchmark measures the issuance, not the seeding): 50 organizations of 100 generators, each
organization's certificates issued into one open active account; MWh with three decimals, so the
fraction is carried.

--instructions N (1 or 2) gives each generator N standing instructions before the run
(seed_instructions), which the issuance runs in its own transactions.

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
                        help="standing instructions per generator")
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
    applied = sum(1 for instruction_run in run.runs if instruction_run.quantity_moved)
    print(f"issued {len(run.issued):,} generator-months ({certificates:,} certificates, {len(run.skipped)} left) "
          f"with {options.instructions} standing instruction(s) each ({applied:,} runs moved certificates) "
          f"in {seconds:.1f} s "
          f"(goal: 30 s with one or two instructions; 12 s without)")
    started = time.perf_counter()
    call_command("verify_ledger")
    print(f"verify_ledger clean in {time.perf_counter() - started:.1f} s")


def seed_generators(count: int, *, staff, month: datetime.date) -> list:
    from django.utils import timezone

    from accounts.models import Account
    from certificates.models import FuelType, Generator, GeneratorEligibility
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
        reviewed_at=timezone.now(),  # approved now: nothing to confirm in this year's annual review
    ) for index in range(count)], batch_size=2_000)
    GeneratorEligibility.objects.bulk_create([  # recorded, as staff do: the certificates carry it
        GeneratorEligibility(generator=generator, name="MN RES", start_date=datetime.date(2000, 1, 1))
        for generator in generators], batch_size=2_000)
    GenerationReport.objects.bulk_create([GenerationReport(
        generator=generator, month=month, mwh=Decimal(1_000 + index % 5_000) + Decimal(index % 1_000) / 1_000,
        submitted_by=staff,
    ) for index, generator in enumerate(generators)], batch_size=2_000)
    return generators


def seed_instructions(generators: list, per_generator: int) -> None:
    """Standing instructions through the instructions service, for every generator: one (60% to one
    of the owner's own accounts) or two (50% to another organization, pending until it accepts; then
    up to 100 retired for a state RPS). Each owner gets a trader who sets them, a sales account and a
    retirement account; one buying organization has an active account."""
    from accounts.models import Account
    from certificates.periods import ProductionPeriod
    from instructions.models import InstructionDestination
    from instructions.services import DestinationChoice, instruction_create
    from registry.models import Membership, Organization, User
    from retirements.models import RetirementOption
    from retirements.services import RetirementDetails

    Kind = InstructionDestination.Kind
    started = time.perf_counter()
    buyer = Organization.objects.create(name="Bench Utility", contact_email="buyer@example.org")
    Account.objects.create(organization=buyer, name="Purchases")
    option = RetirementOption.objects.create(name="Bench RPS", type="state_rps", reason="compliance")
    january = ProductionPeriod.month(2025, 1)
    owners = {}
    for generator in generators:
        organization_id = generator.organization_id
        if organization_id not in owners:
            trader = User.objects.create_user(f"trader{organization_id}@example.org", "x")
            Membership.objects.create(user=trader, organization_id=organization_id, role=Membership.Role.TRADER)
            owners[organization_id] = (trader, generator.organization,
                                       Account.objects.create(organization_id=organization_id, name="Sales"),
                                       Account.objects.create(organization_id=organization_id, name="Retired",
                                                              type=Account.Type.RETIREMENT))
        trader, organization, sales, retired = owners[organization_id]
        if per_generator == 1:
            instruction_create(organization=organization, user=trader, generator=generator, from_vintage=january,
                               percentage=Decimal(60),
                               destinations=[DestinationChoice(kind=Kind.OWN_ACCOUNT, account=sales)])
            continue
        instruction_create(organization=organization, user=trader, generator=generator, from_vintage=january,
                           percentage=Decimal(50),
                           destinations=[DestinationChoice(kind=Kind.ORGANIZATION, recipient=buyer)])
        instruction_create(organization=organization, user=trader, generator=generator, from_vintage=january,
                           maximum=100, destinations=[DestinationChoice(
                               kind=Kind.RETIREMENT, account=retired,
                               retirement=RetirementDetails(option=option, compliance_period=2025))])
    print(f"set {per_generator * len(generators):,} standing instructions in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
