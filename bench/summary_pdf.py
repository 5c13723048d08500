"""The transaction summary of one transfer of 20,000 batches: PDF and CSV downloads.

    .venv/bin/python bench/summary_pdf.py [--batches 20000] [--runs 5] [--database registry_bench_summary]

Seeds an organization with N batches and sends every one of them, whole, to another organization
in one transfer (notes in several scripts, so the PDF embeds its Unicode fonts and the fallback),
then downloads the summary N times through Django's whole request stack in process (session, auth,
middleware, the view): seconds for each download, and peak Python memory of one more download
(tracemalloc, which slows it, so that run is not timed). Goal: at most 5 s for either.
"""

import argparse
import os
import statistics
import time
import tracemalloc

from common import setup_django

NOTES = "Q4 deal — “wind” ✓ Café 北京 Ελληνικά русский"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default="registry_bench_summary")
    options = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(database=options.database, fresh=True)

    from django.test import Client

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User
    from transfers.services import Destination, TransferLine, transfer_create

    User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "x", full_name="Zoë Øster")
    org = Organization.objects.create(name="Bench Wind")
    buyer = Organization.objects.create(name="Coopérative Énergie du Nord")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    Account.objects.create(organization=org, name="Source")
    started = time.perf_counter()
    Seed().scale(org, options.batches)
    batches = CertificateBatch.objects.filter(account__organization=org, status="active").values_list("pk", "quantity")
    lines = [TransferLine(pk, quantity) for pk, quantity in batches[:options.batches]]
    transfer = transfer_create(organization=org, user=trader, lines=lines,
                               destination=Destination.to_organization(buyer), notes=NOTES)
    celery_app.control.purge()  # the benchmark's notification tasks are not to be sent
    print(f"seeded and sent {len(lines):,} batches in one transfer in {time.perf_counter() - started:.1f} s")

    # The VM is shared: the load says how much of its two cores the numbers below had.
    print("load average over 1, 5, 15 minutes: " + ", ".join(f"{load:.1f}" for load in os.getloadavg()))
    client = Client()
    client.force_login(trader)
    for kind in ("pdf", "csv"):
        url = f"/transfers/{transfer.pk}/summary.{kind}"

        def download(url=url) -> int:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            content = b"".join(response.streaming_content) if response.streaming else response.content
            return len(content)

        seconds = []
        for _ in range(options.runs):
            begun = time.perf_counter()
            size = download()
            seconds.append(time.perf_counter() - begun)
        tracemalloc.start()
        download()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"summary.{kind}: {size / 2**20:.1f} MiB; seconds {', '.join(f'{s:.2f}' for s in seconds)} "
              f"(median {statistics.median(seconds):.2f} s); peak Python memory {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
