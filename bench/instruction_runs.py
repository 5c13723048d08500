"""Standing instructions applied to 1,000 new issuances: the cost an issuance run pays per
certificate for its instructions (the issuance benchmark, bench/issuance.py, issues 5,000
generators with one or two instructions each in at most 30 s).

    .venv/bin/python bench/instruction_runs.py [--generators 1000]

Half the generators have one instruction (60% to one of the organization's own accounts), half two
(50% to another organization, pending; then up to 100 retired). The certificates are issued first
(certificate_write), then their instructions are read at once (instructions_for) and run together
(instructions_run_all: one transfer per sender and destination), all in one transaction as an
issuance run makes them.
"""

import argparse
import time
from decimal import Decimal

from common import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generators", type=int, default=1000)
    options = parser.parse_args()
    setup_django("registry_bench_instructions", fresh=True)

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Account
    from certificates.models import Generator
    from certificates.periods import ProductionPeriod
    from certificates.services import certificate_write
    from instructions.models import InstructionDestination
    from instructions.selectors import instructions_for
    from instructions.services import DestinationChoice, instruction_create, instructions_run_all
    from ledger.verification import ledger_breaches
    from portal.celery import app as celery_app
    from registry.models import Membership, Organization, User
    from retirements.models import RetirementOption
    from retirements.services import RetirementDetails

    Kind = InstructionDestination.Kind
    staff = User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Wind")
    buyer = Organization.objects.create(name="Bench Utility")
    Account.objects.create(organization=buyer, name="Buyer active")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    issuance = Account.objects.create(organization=org, name="Issuance")
    sales = Account.objects.create(organization=org, name="Sales")
    retired = Account.objects.create(organization=org, name="Retired", type=Account.Type.RETIREMENT)
    option = RetirementOption.objects.create(name="Bench RPS", type="state_rps", reason="compliance")
    january = ProductionPeriod.month(2026, 1)
    generators = Generator.objects.bulk_create([
        Generator(organization=org, code=f"B{n:05}", name=f"Bench {n}", fuel_type="wind", state="MN",
                  status=Generator.Status.APPROVED, reviewed_at=timezone.now(), account=issuance)
        for n in range(options.generators)])
    for n, generator in enumerate(generators):
        if n % 2:
            instruction_create(organization=org, user=trader, generator=generator, from_vintage=january,
                               percentage=Decimal(50), destinations=[DestinationChoice(kind=Kind.ORGANIZATION,
                                                                                       recipient=buyer)])
            instruction_create(organization=org, user=trader, generator=generator, from_vintage=january,
                               maximum=100, destinations=[DestinationChoice(
                                   kind=Kind.RETIREMENT, account=retired,
                                   retirement=RetirementDetails(option=option, compliance_period=2026))])
        else:
            instruction_create(organization=org, user=trader, generator=generator, from_vintage=january,
                               percentage=Decimal(60), destinations=[DestinationChoice(kind=Kind.OWN_ACCOUNT,
                                                                                       account=sales)])

    with transaction.atomic(durable=True):
        started = time.perf_counter()
        certificates = [certificate_write(user=staff, generator=generator, period=january, quantity=1000 + n,
                                          account=issuance) for n, generator in enumerate(generators)]
        issued = time.perf_counter() - started
        started = time.perf_counter()
        found = instructions_for(certificates)
        read = time.perf_counter() - started
        started = time.perf_counter()
        runs = instructions_run_all(certificates=certificates, user=staff, instructions=found)
        ran = time.perf_counter() - started
    celery_app.control.purge()
    applied = sum(run.status == "applied" for run in runs)
    count = len(certificates)
    print(f"{count:,} issuances: issued in {issued:.2f} s ({issued / count * 1000:.2f} ms each); "
          f"instructions read in {read * 1000:.0f} ms; {len(runs):,} runs ({applied:,} applied) in {ran:.2f} s "
          f"({ran / count * 1000:.2f} ms per issuance, {ran / len(runs) * 1000:.2f} ms per run)")
    print("verify_ledger:", "clean" if not ledger_breaches() else "BREACHES")


if __name__ == "__main__":
    main()
