"""Partial retirements per second through the service layer (retirement_create), against partial
transfers (transfer_create) in the same run, interleaved in rounds so both see the same machine.

    .venv/bin/python bench/retirement.py [--per-round 200] [--rounds 5]
"""

import argparse
import statistics
import time

from common import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    per_round, rounds = options.per_round, options.rounds
    setup_django("registry_bench_retirement", fresh=True)

    from django.core.management import call_command

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User
    from transfers.models import RetirementOption
    from transfers.services import Destination, RetirementDetails, TransferLine, retirement_create, transfer_create

    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Wind")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    source = Account.objects.create(organization=org, name="Source")
    Seed().scale(org, 2 * per_round * rounds)
    target = Account.objects.create(organization=org, name="Target")
    retirements = Account.objects.create(organization=org, name="Retirements", type=Account.Type.RETIREMENT)
    option = RetirementOption.objects.create(name="Minnesota RES", type=RetirementOption.Type.STATE_RPS,
                                             reason=RetirementOption.Reason.COMPLIANCE, state="MN",
                                             requires_compliance_period=True, requires_beneficiary=True)
    details = RetirementDetails(option=option, compliance_period=2025, beneficiary="Twin Cities Library")
    batches = iter(CertificateBatch.objects.filter(account=source, status="active").order_by("pk"))

    def transfer(batch):
        transfer_create(organization=org, user=trader, destination=Destination.internal(target),
                        lines=[TransferLine(batch.pk, batch.quantity // 2)])

    def retire(batch):
        retirement_create(organization=org, user=trader, account=retirements, details=details,
                          lines=[TransferLine(batch.pk, batch.quantity // 2)])

    rates = {"transfer": [], "retirement": []}
    for round_number in range(rounds):
        order = [("transfer", transfer), ("retirement", retire)]
        for name, service in order if round_number % 2 == 0 else order[::-1]:
            chunk = [next(batches) for _ in range(per_round)]
            started = time.perf_counter()
            for batch in chunk:
                service(batch)
            rates[name].append(per_round / (time.perf_counter() - started))
    celery_app.control.purge()  # the benchmark's notification tasks are not to be sent

    for name, values in rates.items():
        print(f"partial {name}s per second: {', '.join(f'{rate:.0f}' for rate in values)}; "
              f"median {statistics.median(values):.0f}")
    ratio = statistics.median(rates["retirement"]) / statistics.median(rates["transfer"])
    print(f"retirements / transfers (medians): {ratio:.0%} (goal: at least 90%)")
    call_command("verify_ledger")


if __name__ == "__main__":
    main()
