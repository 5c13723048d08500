"""The public statistics (#29): with --batches (1,000,000) batches and --retirements (100,000)
retirements in the database,
- the rebuild of the summary tables from the ledger's rows (rebuild_public_stats);
- the public_stats consumer catching up with --events (10,000) new events: as many new retirements,
  bulk-inserted with their retirement.made events, then consumed (goal: at most 5 s);
- the public pages, their CSV and the API, --requests (400) requests over every tab, grouping and a
  few filters, each from another address, through Django's whole request stack in process (goal:
  p95 at most 50 ms).
The tables are then checked against a fresh rebuild: the consumer counted exactly what the ledger says.

    .venv/bin/python bench/public_stats.py [--batches 1000000] [--retirements 100000] [--events 10000] [--requests 400]
"""

import argparse
import itertools
import os
import time

from common import describe, percentile, setup_django
from retirement import seed_retirements

GENERATORS = [("wind", "onshore_wind", "MN", ["MN RES", "Green-e"]), ("wind", "onshore_wind", "IA", ["Green-e"]),
              ("solar", "solar_pv", "MN", ["MN RES", "MN SES"]), ("solar", "solar_pv", "IL", ["IL RPS"]),
              ("hydro", "run_of_river", "WI", ["WI RPS"]), ("biomass", "biomass_steam", "MI", []),
              ("landfill_gas", "landfill_gas_engine", "ND", ["Green-e"]), ("wind", "offshore_wind", "MI", []),
              ("solar", "solar_thermal", "IA", ["IA AEP"]), ("hydro", "reservoir_hydro", "MN", ["MN RES"])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=1_000_000)
    parser.add_argument("--retirements", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    options = parser.parse_args()
    setup_django("registry_bench_public_stats", fresh=True)

    from django.conf import settings
    from django.db import connection, transaction

    from accounts.models import Account
    from certificates.models import CertificateBatch, Generator
    from events.models import Event
    from events.services import event_new, events_record
    from portal.management.commands.seed_demo import Command as Seed
    from programs.models import Program
    from public_stats.models import EligibilityTotal, MonthlyTotal
    from public_stats.services import CONSUMER, public_stats_rebuild
    from registry.models import Membership, Organization, User
    from retirements.models import RetirementOption
    from transfers.models import Transfer

    settings.STATISTICS_REQUESTS_PER_MINUTE = 1_000_000  # the requests below measure the pages, not the limit
    User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Power")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    source = Account.objects.create(organization=org, name="Source")
    for index, (fuel, technology, state, eligibilities) in enumerate(GENERATORS):
        Generator.objects.create(organization=org, code=f"B{index:03d}", name=f"Bench {fuel} {index}",
                                 fuel_type=fuel, technology=technology, state=state, eligibilities=eligibilities,
                                 capacity_mw=50 + index, status=Generator.Status.APPROVED)
    started = time.perf_counter()
    Seed().scale(org, options.batches)
    print(f"seeded {options.batches:,} batches in {time.perf_counter() - started:.1f} s")
    retired_into = Account.objects.create(organization=org, name="Retirements", type=Account.Type.RETIREMENT)
    program = Program.objects.create(code="mn-res-2025", name="Minnesota RES 2025", kind=Program.Kind.COMPLIANCE,
                                     jurisdiction="Minnesota", compliance_year=2025)
    option = RetirementOption.objects.create(name="Minnesota RES", type=RetirementOption.Type.STATE_RPS,
                                             reason=RetirementOption.Reason.COMPLIANCE, state="MN", program=program)
    batches = iter(CertificateBatch.objects.filter(account=source, status="active").order_by("pk"))
    seed_retirements(org=org, user=trader, source=source, into=retired_into, option=option,
                     count=options.retirements, batches=batches)
    # Spread over the months, as a registry's history is (the seeds happen now): each certificate issued
    # 20 days after its vintage, the retirements over the last four years. The ledger's guards refuse
    # such an UPDATE: the benchmark's own seed, written by its superuser, goes past them (no triggers).
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE certificates_certificate SET issued_at = upper(period) + interval '20 days'")
        cursor.execute("UPDATE transfers_transfer SET decided_at = decided_at - (id % 48) * interval '1 month'")
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")

    started = time.perf_counter()
    rows = public_stats_rebuild()
    print(f"rebuild_public_stats: {time.perf_counter() - started:.1f} s, {rows:,} monthly rows, "
          f"{EligibilityTotal.objects.count():,} eligibility rows")

    # Catch-up: --events new retirements, bulk-inserted with their retirement.made events (one transaction).
    last = Transfer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    seed_retirements(org=org, user=trader, source=source, into=retired_into, option=option, count=options.events,
                     batches=batches)
    new = Transfer.objects.filter(kind=Transfer.Kind.RETIREMENT, pk__gt=last).values_list("pk", flat=True)
    with transaction.atomic():
        events_record([event_new(kind=Event.Kind.RETIREMENT_MADE, organization_id=org.pk, subject_id=transfer_id,
                                 data={"transfer_kind": "retirement", "mass_upload_id": None})
                       for transfer_id in new])
    from events.services import events_consume

    started = time.perf_counter()
    consumed = 0
    while ran := events_consume(consumer=CONSUMER):
        consumed += ran
    seconds = time.perf_counter() - started
    print(f"consumer catch-up: {consumed:,} events in {seconds:.2f} s (goal: 10,000 in at most 5 s)")
    counted = sorted(MonthlyTotal.objects.values_list("month", "activity", "fuel", "technology", "state",
                                                      "program_id", "quantity"))
    public_stats_rebuild()
    rebuilt = sorted(MonthlyTotal.objects.values_list("month", "activity", "fuel", "technology", "state",
                                                      "program_id", "quantity"))
    print(f"the consumer's tables {'equal' if counted == rebuilt else 'DIFFER FROM'} a fresh rebuild")

    page_latency(options.requests)
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


def page_latency(requests: int) -> None:
    """Every tab and grouping, a few filters, the generators; pages, CSV and API in turn."""
    from django.test import Client

    queries = [f"activity={activity}&by={by}" for activity in ("issued", "transferred", "retired", "exported")
               for by in ("month", "fuel", "technology", "state", "eligibility", "program")]
    queries += ["activity=retired&program=mn-res-2025", "fuel=wind&state=MN", "eligibility=MN+RES&by=state",
                "month_from=01/2020&month_to=12/2023&by=fuel"]
    urls = [f"/statistics/?{query}" for query in queries] + [f"/api/v1/public/statistics/?{query}" for query in queries]
    urls += ["/statistics/statistics.csv?by=state", "/statistics/generators/", "/statistics/generators.csv",
             "/api/v1/public/generators/"]
    client = Client(HTTP_HOST="localhost")
    for url in urls:  # warm
        assert client.get(url, REMOTE_ADDR="192.0.2.1").status_code == 200, url
    timings, by_kind = [], {"page": [], "api": [], "csv": []}
    for index, url in zip(range(requests), itertools.cycle(urls), strict=False):
        started = time.perf_counter()
        response = client.get(url, REMOTE_ADDR=f"198.51.{index // 250}.{index % 250 + 1}")
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        timings.append(elapsed)
        by_kind["csv" if ".csv" in url else "api" if url.startswith("/api/") else "page"].append(elapsed)
    print(f"public statistics, {requests} requests: {describe(timings)} (goal: p95 at most 50 ms)")
    for kind, values in by_kind.items():
        print(f"  {kind}: {len(values)} requests, p95 {percentile(values, 0.95) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
