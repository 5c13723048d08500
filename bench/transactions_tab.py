"""The dashboard's Transactions tab for an organization with 10,000 transactions.

    .venv/bin/python bench/transactions_tab.py [--transfers 10000] [--requests 30] [--explain]

Seeds the demo, adds live batches to Prairie Wind Energy and makes N transfers of them through
`transfer_create` (internal moves, sales to the other organizations, exports; one of 2,000 batches,
as a mass upload makes), then times the tab's first page with each sort, a filtered page, a late
page and the htmx partial through Django's whole request stack (in process), median and p95, and
streams the CSV of every transaction. --explain prints PostgreSQL's plan of the page's query.
"""

import argparse
import os
import time

from common import describe, setup_django

URLS = [
    ("first page, newest first", "tab=transactions"),
    ("sorted by quantity, descending", "tab=transactions&sort=-quantity"),
    ("sorted by counterparty", "tab=transactions&sort=counterparty"),
    ("sorted by type, page 100", "tab=transactions&sort=kind&page=100"),
    ("counterparty 'lakeshore', pending", "tab=transactions&counterparty=lakeshore&status=pending"),
    ("submitted in one week", "tab=transactions&submitted_from=2025-03-01&submitted_to=2025-03-07"),
    ("notes contain 'holdings'", "tab=transactions&notes=holdings"),
    ("transfer id", "tab=transactions&transfer=5000"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    options = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(database="registry_bench_transactions", fresh=not options.reuse)

    from django.db import connection
    from django.test import Client

    from registry.models import User

    trader = User.objects.get(email="trader@prairiewind.example") if options.reuse else seed(options.transfers)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(trader)
    organization = trader.memberships.get().organization

    if options.explain:
        explain(organization)

    def timed(url: str, **headers) -> list[float]:
        client.get(url, headers=headers)  # warm
        samples = []
        for _ in range(options.requests):
            begun = time.perf_counter()
            response = client.get(url, headers=headers)
            samples.append(time.perf_counter() - begun)
            assert response.status_code == 200 and b"Correct the filter" not in response.content
        return samples

    for label, query in URLS:
        print(f"{label + ':':<40}", describe(timed(f"/certificates/?{query}")))
    print(f"{'htmx partial, sorted by quantity:':<40}",
          describe(timed("/certificates/?tab=transactions&sort=quantity&page=2",
                         HX_Request="true", HX_Target="results")))
    begun = time.perf_counter()
    rows = sum(chunk.count(b"\n") for chunk in client.get("/transfers/transactions.csv").streaming_content) - 1
    print(f"CSV of every transaction: {rows:,} rows in {time.perf_counter() - begun:.2f} s")


def seed(count: int):
    import datetime
    import random

    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from registry.models import Organization, TrackingSystem, User
    from transfers.models import Transfer
    from transfers.services import Destination, TransferLine, transfer_create

    big = 2000
    started = time.perf_counter()
    call_command("seed_demo", batches=count + big, verbosity=0, stdout=open(os.devnull, "w"))
    trader = User.objects.get(email="trader@prairiewind.example")
    org = trader.memberships.get().organization
    others = list(Organization.objects.exclude(pk=org.pk))
    accounts = list(Account.objects.of(org).open_active())
    tracking = TrackingSystem.objects.get(code="WREGIS")
    batches = list(CertificateBatch.objects.filter(account__organization=org, status="active")
                   .values_list("pk", "quantity", "account_id")[:count + big])
    print(f"seeded the demo and {len(batches):,} batches in {time.perf_counter() - started:.1f} s")
    random.seed(17)
    started = time.perf_counter()
    notes = ["Rebalancing holdings", "Bilateral REC sale", "Q4 delivery", "", "Export for a WECC buyer"]
    for n, (pk, quantity, account_id) in enumerate(batches[:count - 1]):
        roll = random.random()
        if roll < 0.5:
            destination = Destination.internal(next(a for a in accounts if a.pk != account_id))
        elif roll < 0.85:
            destination = Destination.to_organization(random.choice(others))
        else:
            destination = Destination.export(tracking, "Cascade Northwest Utility", "W-20931")
        transfer_create(organization=org, user=trader, lines=[TransferLine(pk, max(1, quantity // 2))],
                        destination=destination, notes=random.choice(notes))
        if n % 1000 == 999:
            print(f"  {n + 1:,} transfers, {time.perf_counter() - started:.0f} s")
    lines = [TransferLine(pk, quantity) for pk, quantity, _ in batches[count - 1:count - 1 + big]]
    transfer_create(organization=org, user=trader, lines=lines, destination=Destination.to_organization(others[0]),
                    notes="A mass transfer")
    # Spread the submissions over two years, as an organization's history is.
    first = timezone.now() - datetime.timedelta(days=730)
    for pk in Transfer.objects.filter(organization=org).values_list("pk", flat=True):
        Transfer.objects.filter(pk=pk).update(submitted_at=first + datetime.timedelta(minutes=random.randint(0, 10**6)))
    print(f"made {Transfer.objects.filter(organization=org).count():,} transfers in "
          f"{time.perf_counter() - started:.1f} s")
    return trader


def explain(organization) -> None:
    from django.http import QueryDict

    from transfers.selectors import transactions_filtered

    for query in ("", "sort=-quantity", "sort=counterparty"):
        _, transfers, _ = transactions_filtered(QueryDict(query), organization)
        print(f"--- EXPLAIN ANALYZE, first page, {query or 'newest first'}")
        print(transfers[:50].explain(analyze=True))
    _, transfers, _ = transactions_filtered(QueryDict(""), organization)
    print("--- EXPLAIN ANALYZE, the count")
    print(transfers.order_by().values("pk").explain(analyze=True))


if __name__ == "__main__":
    main()
