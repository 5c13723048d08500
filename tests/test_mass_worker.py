"""A real Celery worker process, on Redis, takes an upload from queued to completed."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from ledger.verification import ledger_breaches
from registry.celery import app as celery_app
from transfers.models import MassTransferUpload

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    if db["HOST"].startswith("/"):
        return f"postgresql://{user}{password}@/{db['NAME']}?host={db['HOST']}"
    return f"postgresql://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(settings, tmp_path):
    """A `celery worker` process on the test database and this Redis; tasks are sent, not run eagerly."""
    settings.MEDIA_ROOT = tmp_path / "media"
    env = os.environ | {"DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                        "REGISTRY_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "registry.settings",
                        "CELERY_TASK_ALWAYS_EAGER": "0"}
    log = open(tmp_path / "worker.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "registry", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--purge", "--hostname", f"test-{os.getpid()}@%h"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in (tmp_path / "worker.log").read_text():
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
        time.sleep(0.2)
    celery_app.conf.task_always_eager = False
    yield tmp_path / "worker.log"
    celery_app.conf.task_always_eager = True
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_an_upload_from_queued_to_completed(worker, signed_in, trader, batch, second_account,
                                                          counterparty):
    raw = ("Serial Number,Quantity,Organization ID,Account ID,Notes\n"
           f"{batch.serial_number},100,,{second_account.public_id},Rebalance\n"
           f"{batch.serial_number},50,{counterparty.public_id},,Sale\n").encode()
    response = signed_in(trader).post(reverse("transfers:mass"), {"file": SimpleUploadedFile("t.csv", raw)})
    assert response.status_code == 302
    upload = MassTransferUpload.objects.get()
    deadline = time.monotonic() + 60
    while upload.status in ("queued", "processing"):
        assert time.monotonic() < deadline, f"still {upload.status}"
        time.sleep(0.2)
        upload.refresh_from_db()
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    assert upload.attempts == 1
    log = worker.read_text()  # the worker process, not this one, ran the task
    assert "transfers.tasks.process_mass_upload[" in log and "succeeded" in log and "'completed'" in log
    assert sorted(upload.transfers.values_list("kind", "status")) == [("internal", "complete"),
                                                                       ("organization", "pending")]
    assert ledger_breaches() == []
