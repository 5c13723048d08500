"""Mass certificate transfers with a real Celery worker: upload to completed, and validation time.

    .venv/bin/python bench/mass_transfer.py [--sizes 10000,100000]

Seeds an organization with 210,000 batches, starts `celery worker --pool solo` (one process doing the work) on Redis,
and for each file: stores it through the upload service, and times from the upload until the
worker marks it completed (or failed), sampling the worker's peak memory (RSS of its process
tree). The files are valid rows on distinct batches, half to the organization's own account and
half to another organization, under four notes; then a file of 100,000 rows whose last row is bad.
The worker runs with MASS_TRANSFER_MAX_ROWS=100000, since the portal's limit is 50,000 rows.
"""

import argparse
import os
import subprocess
import sys
import threading
import time

import psutil
from common import ROOT, process_log, setup_django


def bench_media():
    """Uploads go under .data/bench-media, for this process and the worker it starts."""
    media = ROOT / ".data" / "bench-media"
    os.environ["MEDIA_ROOT"] = str(media)
    from django.conf import settings
    settings.MEDIA_ROOT = media
    return media


def start_worker(url: str, media, name: str) -> subprocess.Popen:
    """`celery worker --pool solo` on the benchmark database, allowed 100,000-row files; its log
    goes to .data/bench-logs/<name>-worker.log. Tasks are sent to it from here on."""
    from portal.celery import app as celery_app

    env = os.environ | {"DATABASE_URL": url, "MEDIA_ROOT": str(media), "MASS_TRANSFER_MAX_ROWS": "100000",
                        "REGISTRY_DATA_DIR": str(ROOT / ".data" / "bench-data")}
    log = process_log(f"{name}-worker")
    print(f"the worker's log (and the emails it sends to the console): {log.name}")
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo",
                               "--loglevel", "WARNING", "--purge"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    time.sleep(6)
    celery_app.conf.task_always_eager = False
    return worker


def timed_upload(worker: subprocess.Popen, *, organization, user, raw: bytes, kind: str = "transfer"):
    """Store `raw` through the upload service and wait until the worker finishes it: (upload,
    seconds from upload to finished, the worker's peak RSS in bytes, its process tree's)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mass_uploads.services import mass_upload_create

    peak = [0]
    done = threading.Event()

    def sample():
        process = psutil.Process(worker.pid)
        while not done.is_set():
            rss = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
            peak[0] = max(peak[0], rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    begun = time.perf_counter()
    try:
        upload = mass_upload_create(organization=organization, user=user, upload=SimpleUploadedFile("bench.csv", raw),
                                    confirm_duplicate=True, kind=kind)
        while upload.status in ("queued", "processing"):
            time.sleep(0.1)
            upload.refresh_from_db()
        seconds = time.perf_counter() - begun
    finally:
        done.set()
        sampler.join()
    return upload, seconds, peak[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    url = setup_django(database="registry_bench_mass", fresh=True)
    media = bench_media()

    from accounts.models import Account
    from certificates.models import CertificateBatch
    from ledger.verification import ledger_breaches
    from mass_uploads.models import MassTransferUpload
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User

    User.objects.create_user("bench-staff@example.org", "demo", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "demo")
    org = Organization.objects.create(name="Bench Wind")
    buyer = Organization.objects.create(name="Bench Buyer")
    Account.objects.create(organization=buyer, name="Buyer")  # an organization receives into an open active account
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    Account.objects.create(organization=org, name="Source")
    started = time.perf_counter()
    needed = sum(sizes) + max(sizes)
    Seed().scale(org, needed)
    target = Account.objects.create(organization=org, name="Target")
    print(f"seeded {needed:,} batches in {time.perf_counter() - started:.1f} s")
    batches = iter(CertificateBatch.objects.filter(account__organization=org, status="active").order_by("pk")
                   .values_list("certificate__serial_base", "serial_start", "serial_end", "quantity"))

    def file_of(size, bad_last=False):
        lines = ["Serial Number,Quantity,Organization ID,Account ID,Notes"]
        for index in range(size):
            base, start, end, quantity = next(batches)
            destination = f",{target.public_id}" if index % 2 else f"{buyer.public_id},"
            lines.append(f"{base}-{start} to {end},{max(1, quantity // 2)},{destination},Lot {index % 4}")
        if bad_last:
            lines[-1] = lines[-1].split(",")[0] + ",0,,,"
        return ("\r\n".join(lines) + "\r\n").encode()

    worker = start_worker(url, media, "mass_transfer")
    try:
        runs = [(f"{size:,} valid rows", file_of(size)) for size in sizes]
        runs.insert(0, (f"{max(sizes):,} rows, the last one bad", file_of(max(sizes), bad_last=True)))
        for label, raw in runs:
            upload, seconds, peak = timed_upload(worker, organization=org, user=trader, raw=raw)
            detail = (f"{upload.transfers.count()} transfers" if upload.status == MassTransferUpload.Status.COMPLETED
                      else f"{len(upload.errors)} error(s): {upload.errors[0]['message'][:60]}")
            print(f"{label} ({len(raw) / 2**20:.1f} MB): {upload.status} in {seconds:.1f} s, {detail}; "
                  f"worker peak RSS {peak / 2**20:.0f} MB")
        breaches = ledger_breaches()
        print(f"verify_ledger: {'clean' if not breaches else breaches[:3]}")
    finally:
        worker.terminate()
        worker.wait()
        celery_app.control.purge()


if __name__ == "__main__":
    main()
