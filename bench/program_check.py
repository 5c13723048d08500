"""The program check's cost (#29: "a program check of a 1,000-batch retirement adds at most 20% to
its service time"): retirements of --batches (1,000) whole batches each through retirement_create,
one toward an option that names no program and one toward an option whose program has a rule on
every attribute (vintage window, fuels, technologies, states, eligibilities, generators) that
accepts every batch, so both retire the same; alternating in rounds so both see the same machine.

    .venv/bin/python bench/program_check.py [--batches 1000] [--rounds 10]
"""

import argparse
import os
import statistics
import time

from common import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    setup_django("registry_bench_program_check", fresh=True)

    from django.core.management import call_command

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from programs.services import program_create
    from registry.models import Membership, Organization, User
    from retirements.models import RetirementOption
    from retirements.services import RetirementDetails, retirement_create
    from transfers.services import TransferLine

    staff = User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Wind")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    Account.objects.create(organization=org, name="Source")
    retirements = Account.objects.create(organization=org, name="Retirements", type=Account.Type.RETIREMENT)
    needed = 2 * options.batches * options.rounds
    started = time.perf_counter()
    Seed().scale(org, needed)
    print(f"seeded {needed:,} batches in {time.perf_counter() - started:.1f} s")

    live = CertificateBatch.objects.filter(account__organization=org, status="active")
    facts = list(live.values_list("certificate__fuel_type", "certificate__generator__technology",
                                  "certificate__state", "certificate__eligibilities", "certificate__generator__code"))
    eligibilities = sorted({name for _, _, _, names, _ in facts for name in names})
    rules = {"vintage_years_before": 40, "fuels": sorted({row[0] for row in facts}),
             "technologies": sorted({row[1] for row in facts if row[1]}), "states": sorted({row[2] for row in facts}),
             "generators": sorted({row[4] for row in facts})}
    if all(names for _, _, _, names, _ in facts):  # a batch with none would be refused by any eligibility rule
        rules["eligibilities"] = eligibilities
    program = program_create(user=staff, rules=rules, fields={
        "code": "bench-2025", "name": "Bench RES 2025", "kind": "compliance", "jurisdiction": "Bench",
        "compliance_year": 2025})
    counted = (f"{name} ({len(value) if isinstance(value, list) else value})" for name, value in rules.items())
    print(f"program rules: {', '.join(counted)}")
    plain = RetirementOption.objects.create(name="No program", type=RetirementOption.Type.VOLUNTARY_CLAIM,
                                            reason=RetirementOption.Reason.VOLUNTARY)
    toward = RetirementOption.objects.create(name="Bench RES 2025", type=RetirementOption.Type.STATE_RPS,
                                             reason=RetirementOption.Reason.COMPLIANCE, program=program)
    batches = iter(live.order_by("pk").values_list("pk", "quantity"))

    def retire(option):
        lines = [TransferLine(pk, quantity) for pk, quantity in (next(batches) for _ in range(options.batches))]
        started = time.perf_counter()
        retirement_create(organization=org, user=trader, account=retirements, lines=lines,
                          details=RetirementDetails(option=option, compliance_period=2025))
        return time.perf_counter() - started

    timings = {"without": [], "with": []}
    for round_number in range(options.rounds):
        order = [("without", plain), ("with", toward)]
        for name, option in order if round_number % 2 == 0 else order[::-1]:
            timings[name].append(retire(option))
    celery_app.control.purge()  # the benchmark's notification tasks are not to be sent

    for name, values in timings.items():
        print(f"{options.batches:,}-batch retirement {name} the program check: "
              f"{', '.join(f'{seconds * 1000:.0f}' for seconds in values)} ms; median "
              f"{statistics.median(values) * 1000:.0f} ms")
    # The check alone (what retirement_write asks first), on batches of the size retired, many times:
    # less at the mercy of the machine's other load than the difference of two medians.
    from django.utils import timezone

    from programs.selectors import program_refusal
    # The batches retired last (every seeded batch is retired by now; the check reads them alike).
    sample = list(CertificateBatch.objects.filter(account__organization=org).order_by("-pk")
                  .values_list("pk", flat=True)[:options.batches])
    assert len(sample) == options.batches
    alone = []
    for _ in range(20):
        started = time.perf_counter()
        assert not program_refusal(program=program, organization=org, batch_ids=sample, now=timezone.now())
        alone.append(time.perf_counter() - started)
    print(f"the check alone, {options.batches:,} batches: median {statistics.median(alone) * 1000:.1f} ms "
          f"({statistics.median(alone) / statistics.median(timings['without']):.1%} of the service's median)")
    added = statistics.median(timings["with"]) / statistics.median(timings["without"]) - 1
    print(f"the check adds {added:.0%} to the service time (medians; goal: at most 20%); "
          f"load average {os.getloadavg()[0]:.1f}")
    call_command("verify_ledger")


if __name__ == "__main__":
    main()
