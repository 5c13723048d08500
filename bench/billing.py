"""Billing (#31): with --organizations (10,000) organizations,
- the billing consumer charging --consume (50,000) certificates.issued events, spread over the
  organizations and the last period (goal: at least 1,000 events a second);
- a period's invoices over --events (1,000,000) billable events in all: the charges of the rest are
  inserted by SQL (the consumer's rate is the first figure), then invoices_issue issues one invoice per
  organization (goal: at most 60 s, memory flat: the process's peak RSS before and after is printed).
Then checked: one invoice per organization, numbers 1..N without a gap, each total the sum of its lines.

    .venv/bin/python bench/billing.py                     # 2,000 organizations, 200,000 events: a few minutes
    .venv/bin/python bench/billing.py --organizations 10000 --events 1000000 --consume 50000   # the issue's volume

Each phase prints its wall time and its CPU time, this process's and its PostgreSQL backend's (less
moved by the machine's load than the wall time).
"""

import argparse
import cProfile
import datetime
import os
import pstats
import resource
import time

from common import backend_cpu, setup_django


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organizations", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--consume", type=int, default=10_000)
    options = parser.parse_args()
    setup_django("registry_bench_billing", fresh=True)

    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Account
    from billing.models import Charge, Fee, FeeSchedule, Invoice, TierFee
    from billing.services import CONSUMER, invoices_issue
    from billing.values import local_day, period_before
    from certificates.models import Certificate
    from events.models import Event
    from events.services import event_new, events_consume, events_record
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Organization, User

    User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    organizations = Organization.objects.bulk_create(
        [Organization(name=f"Bench organization {index:05d}") for index in range(options.organizations)],
        batch_size=5000)
    organization_ids = [organization.pk for organization in organizations]
    Account.objects.create(organization=organizations[0], name="Source")
    Seed().scale(organizations[0], 2000)
    certificate_ids = list(Certificate.objects.values_list("pk", flat=True))
    schedule = FeeSchedule.objects.create(effective_from=datetime.date(2000, 1, 1), payment_days=30)
    Fee.objects.create(schedule=schedule, kind="issuance", unit_price=Decimal("0.02"), free_per_year=1000)
    TierFee.objects.create(schedule=schedule, tier=Organization.Tier.SMALL, annual_amount=Decimal("50"))

    now = timezone.now()
    period = period_before(local_day(now))
    start = datetime.datetime.combine(period.start, datetime.time(), tzinfo=now.tzinfo)
    seconds = int((datetime.datetime.combine(period.end, datetime.time(), tzinfo=now.tzinfo) - start).total_seconds())

    # 1. The consumer: --consume events, recorded in transactions of 5,000, then consumed.
    for chunk in range(0, options.consume, 5000):
        with transaction.atomic():
            events_record([event_new(kind=Event.Kind.CERTIFICATES_ISSUED,
                                     organization_id=organization_ids[index % len(organization_ids)],
                                     data={"certificate_ids": [certificate_ids[index % len(certificate_ids)]]},
                                     occurred_at=start + datetime.timedelta(seconds=index * seconds // options.consume))
                           for index in range(chunk, min(chunk + 5000, options.consume))])
    def cpu() -> tuple[float, float]:
        connection.ensure_connection()
        return time.process_time(), backend_cpu(connection.connection.info.backend_pid)

    def cpu_text(before: tuple[float, float]) -> str:
        process, backend = (after - start for after, start in zip(cpu(), before, strict=True))
        return f"CPU: this process {process:.1f} s, PostgreSQL's backend {backend:.1f} s"

    cpu_before = cpu()
    started = time.perf_counter()
    consumed = 0
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    if profile:
        profile.enable()
    while ran := events_consume(consumer=CONSUMER):
        consumed += ran
    elapsed = time.perf_counter() - started
    if profile:
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    print(f"billing consumer: {consumed:,} events charged in {elapsed:.1f} s: {consumed / elapsed:,.0f} events/s "
          f"(goal: at least 1,000/s); {Charge.objects.count():,} charges; {cpu_text(cpu_before)}")

    # 2. The rest of the period's billable events and their charges, by SQL.
    rest = options.events - consumed
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM events_event")
        (last_event,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO events_event (kind, occurred_at, organization_id, data) "
            "SELECT 'certificates.issued', %s::timestamptz + (i::bigint * %s / %s) * interval '1 second', "
            "(%s::bigint[])[1 + i %% %s], '{}'::jsonb FROM generate_series(0, %s - 1) i",
            [start, seconds, rest, organization_ids, len(organization_ids), rest])
        cursor.execute(
            "INSERT INTO billing_charge (organization_id, kind, event_id, schedule_id, occurred_at, year, quantity, "
            "free_quantity, unit_price, amount, currency, description) "
            "SELECT organization_id, 'issuance', id, %s, occurred_at, %s, 2500, 0, 0.02, 50.00, 'USD', "
            "'2,500 RECs × $0.02' FROM events_event WHERE id > %s",
            [schedule.pk, period.start.year, last_event])
        # The consumer is past these (they are charged): it need not claim them.
        cursor.execute("UPDATE events_consumerprogress SET txid = pg_current_xact_id()::text::bigint, "
                       "event_id = %s WHERE consumer = %s", [2**62, CONSUMER])
        cursor.execute("ANALYZE")
    print(f"seeded {rest:,} more events and charges in {time.perf_counter() - started:.1f} s; "
          f"{Charge.objects.count():,} charges in all")

    rss_before = peak_rss_mib()
    cpu_before = cpu()
    started = time.perf_counter()
    issued = invoices_issue(period=period, now=now)
    elapsed = time.perf_counter() - started
    spent = cpu_text(cpu_before)
    print(f"invoices_issue: {issued:,} invoices over {Charge.objects.exclude(invoice=None).count():,} charges in "
          f"{elapsed:.1f} s (goal: at most 60 s); {spent}; peak RSS {rss_before:.0f} MiB before, "
          f"{peak_rss_mib():.0f} MiB after")

    numbers = list(Invoice.objects.order_by("number").values_list("number", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM billing_invoice i WHERE i.total <> "
                       "(SELECT SUM(amount) FROM billing_charge c WHERE c.invoice_id = i.id)")
        (wrong,) = cursor.fetchone()
    print(f"check: {len(numbers):,} invoices for {options.organizations:,} organizations, numbers 1..{numbers[-1]:,} "
          f"{'without a gap' if numbers == list(range(1, len(numbers) + 1)) else 'WITH GAPS'}, "
          f"{wrong} totals differing from their lines; a second run issues {invoices_issue(period=period, now=now)}")
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
