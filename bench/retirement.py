"""Retirements, three ways:
- partial retirements per second through the service layer (retirement_create), against partial
  transfers (transfer_create) in the same run, interleaved in rounds so both see the same machine;
- a mass retirement file of --mass-rows rows (100,000) from upload to completed with a real worker,
  timed and its RSS sampled as bench/mass_transfer.py does (its helpers);
- the public verification page's latency over 200 requests, with --retirements (100,000)
  retirements in the database (bulk-inserted here: the benchmark measures the page, not the seeding).

    .venv/bin/python bench/retirement.py [--per-round 200] [--rounds 5] [--mass-rows 100000] [--retirements 100000]
"""

import argparse
import statistics
import time

from common import describe, setup_django
from mass_transfer import bench_media, start_worker, timed_upload


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mass-rows", type=int, default=100_000)
    parser.add_argument("--retirements", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()
    per_round, rounds = options.per_round, options.rounds
    url = setup_django("registry_bench_retirement", fresh=True)
    media = bench_media()

    from django.core.management import call_command

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User
    from retirements.models import RetirementOption
    from retirements.services import RetirementDetails, retirement_create
    from transfers.services import Destination, TransferLine, transfer_create

    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Wind")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    source = Account.objects.create(organization=org, name="Source")
    started = time.perf_counter()
    needed = 2 * per_round * rounds + options.mass_rows + options.retirements
    Seed().scale(org, needed)
    print(f"seeded {needed:,} batches in {time.perf_counter() - started:.1f} s")
    target = Account.objects.create(organization=org, name="Target")
    retirements = Account.objects.create(organization=org, name="Retirements", type=Account.Type.RETIREMENT)
    option = RetirementOption.objects.create(name="Minnesota RES", type=RetirementOption.Type.STATE_RPS,
                                             reason=RetirementOption.Reason.COMPLIANCE, state="MN",
                                             requires_compliance_period=True, requires_beneficiary=True)
    details = RetirementDetails(option=option, compliance_period=2025, beneficiary="Twin Cities Library")
    batches = iter(CertificateBatch.objects.filter(account=source, status="active").select_related("certificate")
                   .order_by("pk"))

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

    # A mass retirement file: distinct batches, half of each, under two options and four beneficiaries.
    # No reporting period: with one on every row, 100,000 rows make 11 MB, over the 10 MB upload limit.
    green_e = RetirementOption.objects.create(name="Green-e Energy", type=RetirementOption.Type.GREEN_E,
                                              reason=RetirementOption.Reason.VOLUNTARY, requires_beneficiary=True)
    lines = ["Serial Number,Quantity,Retirement Account ID,Option,Compliance Period,Beneficiary,Period Start,"
             "Period End,Notes"]
    for index in range(options.mass_rows):
        batch = next(batches)
        chosen = (option.name, "2025") if index % 2 else (green_e.name, "")
        lines.append(f"{batch.serial_number},{max(1, batch.quantity // 2)},{retirements.public_id},{chosen[0]},"
                     f"{chosen[1]},Beneficiary {index % 4},,,Lot {index % 4}")
    raw = ("\r\n".join(lines) + "\r\n").encode()
    worker = start_worker(url, media, "retirement")
    try:
        upload, seconds, peak = timed_upload(worker, organization=org, user=trader, raw=raw, kind="retirement")
    finally:
        worker.terminate()
        worker.wait()
        celery_app.control.purge()
    detail = (f"{upload.transfers.count()} retirements" if upload.status == "completed"
              else f"{len(upload.errors)} error(s): {upload.errors[0]['message'][:80]}")
    print(f"mass retirement, {options.mass_rows:,} rows ({len(raw) / 2**20:.1f} MB): {upload.status} in "
          f"{seconds:.1f} s, {detail}; worker peak RSS {peak / 2**20:.0f} MB (goals: 60 s, 300 MB)")
    call_command("verify_ledger")

    seed_retirements(org=org, user=trader, source=source, into=retirements, option=option,
                     count=options.retirements, batches=batches)
    verification_latency(options.requests)


def seed_retirements(*, org, user, source, into, option, count, batches) -> None:
    """`count` whole-batch retirements, bulk-inserted: the benchmark's own shortcut past the service
    (no ledger events, so verify_ledger is not run after it)."""
    from django.db import transaction
    from django.utils import timezone

    from certificates.models import CertificateBatch
    from retirements.models import Retirement
    from transfers.models import Transfer, TransferItem

    started, now = time.perf_counter(), timezone.now()
    chunk = 10_000
    with transaction.atomic():
        for offset in range(0, count, chunk):
            taken = [next(batches) for _ in range(min(chunk, count - offset))]
            transfers = Transfer.objects.bulk_create([
                Transfer(kind=Transfer.Kind.RETIREMENT, status=Transfer.Status.COMPLETE, organization=org,
                         created_by=user, destination_account=into, created_at=now, submitted_at=now, decided_at=now)
                for _ in taken])
            TransferItem.objects.bulk_create([
                TransferItem(transfer=transfer, batch=batch, source_batch=batch, source_account=source)
                for transfer, batch in zip(transfers, taken, strict=True)])
            CertificateBatch.objects.filter(pk__in=[batch.pk for batch in taken]).update(
                status=CertificateBatch.Status.RETIRED, account=into)
            Retirement.objects.bulk_create([
                Retirement(transfer=transfer, option=option, compliance_period=2025,
                           beneficiary=f"Beneficiary {index % 50}")
                for index, transfer in enumerate(transfers)])
    print(f"bulk-inserted {count:,} retirements in {time.perf_counter() - started:.1f} s "
          f"({Retirement.objects.count():,} in the database)")


def verification_latency(requests: int) -> None:
    """The public verification page, signed out, each request for another retirement from another
    address (as the throttle counts them), through Django's whole request stack in process."""
    import random

    from django.test import Client

    from retirements.models import Retirement

    references = list(Retirement.objects.values_list("reference", flat=True))
    chosen = random.Random(18).sample(references, requests + 10)
    client = Client(HTTP_HOST="localhost")  # one of the default ALLOWED_HOSTS
    for reference in chosen[:10]:  # warm
        client.get(f"/verify/{reference}/", REMOTE_ADDR="192.0.2.1")
    timings = []
    for index, reference in enumerate(chosen[10:]):
        started = time.perf_counter()
        response = client.get(f"/verify/{reference}/", REMOTE_ADDR=f"198.51.{index // 250}.{index % 250 + 1}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200 and reference in response.content.decode(), response.status_code
    print(f"verification page, {requests} requests, {len(references):,} retirements: {describe(timings)} "
          "(goal: p95 at most 50 ms)")


if __name__ == "__main__":
    main()
