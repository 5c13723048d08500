"""A real Celery worker process, on Redis, takes an upload from queued to completed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ledger.verification import ledger_breaches
from mass_uploads.models import MassTransferUpload

from .conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_worker_takes_an_upload_from_queued_to_completed(worker, signed_in, trader, batch, second_account,
                                                          counterparty):
    raw = ("Serial Number,Quantity,Organization ID,Account ID,Notes\n"
           f"{batch.serial_number},100,,{second_account.public_id},Rebalance\n"
           f"{batch.serial_number},50,{counterparty.public_id},,Sale\n").encode()
    response = signed_in(trader).post(reverse("mass_uploads:uploads"), {"file": SimpleUploadedFile("t.csv", raw)})
    assert response.status_code == 302
    upload = MassTransferUpload.objects.get()
    unfinished = MassTransferUpload.objects.filter(pk=upload.pk, status__in=("queued", "processing"))
    wait_for(lambda: not unfinished.exists(), 60,
             lambda: f"still {MassTransferUpload.objects.get(pk=upload.pk).status}")
    upload.refresh_from_db()
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    assert upload.attempts == 1
    # The worker logs the task's end (with what it returned) after it committed; the end of another
    # task (an events consumer the commits woke) may come first.
    wait_for(lambda: "'completed'" in worker.read_text(), 60, worker.read_text)
    log = worker.read_text()  # the worker process, not this one, ran the task
    assert "mass_uploads.tasks.process_mass_upload[" in log and "succeeded" in log and "'completed'" in log
    assert sorted(upload.transfers.values_list("kind", "status")) == [("internal", "complete"),
                                                                       ("organization", "pending")]
    assert ledger_breaches() == []
