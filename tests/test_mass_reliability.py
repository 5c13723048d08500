"""A mass upload always ends, completed or failed with a reason and an email, exactly once: whatever
else its organization uploads at the same moment, whatever error or worker death interrupts it."""

import datetime
import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from mass_uploads import services as mass_uploads
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create, mass_upload_process, mass_uploads_requeue_stalled
from transfers.models import Transfer
from utilities.upload_runs import UploadBusy, upload_lock

from .conftest import wait_for

HEADER = "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
Status = MassTransferUpload.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@contextmanager
def held_by_another_connection(lock):
    """Run `lock()` in a transaction on a second database connection, and hold what it locked
    until the block ends (as a worker busy with an upload holds it)."""
    locked, release, failure = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                lock()
                locked.set()
                release.wait(120)
        except Exception as error:  # reported to the test below
            failure.append(error)
            locked.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(30) and not failure, failure
    try:
        yield
    finally:
        release.set()
        thread.join(30)


def queue(org, user, content: str) -> MassTransferUpload:
    with transaction.atomic():  # as a request does: the task is sent when the upload is committed
        return mass_upload_create(organization=org, user=user, upload=SimpleUploadedFile("t.csv", content.encode()))


def one_row(batch, account, quantity=5, notes="") -> str:
    return HEADER + f"{batch.serial_number},{quantity},,{account.public_id},{notes}\r\n"


# --- in this process ---------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_an_upload_in_progress_does_not_hold_up_another_upload_of_the_same_organization(
        org, trader, issue, second_account):
    first, second = issue(100), issue(100)
    with mass_uploads_run_eagerly_never():  # this test runs the service itself
        busy = queue(org, trader, one_row(first, second_account))
        other = queue(org, trader, one_row(second, second_account))
    with held_by_another_connection(lambda: upload_lock(MassTransferUpload, busy.pk)):
        assert mass_upload_process(upload_id=other.pk) == Status.COMPLETED
        with pytest.raises(UploadBusy):  # the task retries it later; it is never dropped
            mass_upload_process(upload_id=busy.pk)
    assert mass_upload_process(upload_id=busy.pk) == Status.COMPLETED


@contextmanager
def mass_uploads_run_eagerly_never():
    """Celery is eager in this process: keep the uploads' own task from running on commit here."""
    real = mass_uploads._queue_after_commit
    mass_uploads._queue_after_commit = lambda upload_id: None
    try:
        yield
    finally:
        mass_uploads._queue_after_commit = real


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_error_fails_the_upload_with_a_message_and_the_email(
        org, trader, batch, second_account, monkeypatch):
    def breaks(raw, organization):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(mass_uploads.mass, "validate", breaks)
    upload = queue(org, trader, one_row(batch, second_account))
    upload.refresh_from_db()
    assert upload.status == Status.FAILED and upload.attempts == 1 and upload.finished_at
    assert "an unexpected error stopped the processing of this file" in upload.errors[0]["message"]
    assert "disk on fire" not in str(upload.errors)  # the cause is logged for the registry, not shown
    [email] = mail.outbox
    assert email.to == [trader.email] and "nothing was transferred" in email.subject
    assert Transfer.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_upload_interrupted_again_and_again_ends_failed_with_the_reason(org, trader, batch, second_account,
                                                                           settings):
    settings.MASS_UPLOAD_MAX_ATTEMPTS = 3
    with mass_uploads_run_eagerly_never():
        upload = queue(org, trader, one_row(batch, second_account))
    MassTransferUpload.objects.filter(pk=upload.pk).update(status=Status.PROCESSING, attempts=3)
    assert mass_upload_process(upload_id=upload.pk) == Status.FAILED
    upload.refresh_from_db()
    assert "processing this file was interrupted 3 times" in upload.errors[0]["message"]
    assert len(mail.outbox) == 1 and Transfer.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_sweep_requeues_only_stalled_uploads_that_no_worker_holds(org, trader, issue, second_account):
    def stored(status, age_minutes):
        with mass_uploads_run_eagerly_never():
            upload = queue(org, trader, one_row(issue(10), second_account, notes=f"{status} {age_minutes}"))
        then = timezone.now() - datetime.timedelta(minutes=age_minutes)
        MassTransferUpload.objects.filter(pk=upload.pk).update(status=status, started_at=then, created_at=then,
                                                               attempts=1 if status == Status.PROCESSING else 0)
        return upload.pk

    dead_worker = stored(Status.PROCESSING, 5)
    lost_message = stored(Status.QUEUED, 5)
    working = stored(Status.PROCESSING, 5)
    just_started = stored(Status.PROCESSING, 0)
    with held_by_another_connection(lambda: upload_lock(MassTransferUpload, working)):
        assert sorted(mass_uploads_requeue_stalled()) == sorted([dead_worker, lost_message])
    # Celery is eager here: the re-queued uploads ran at once, each exactly once.
    statuses = dict(MassTransferUpload.objects.values_list("pk", "status"))
    assert statuses == {dead_worker: Status.COMPLETED, lost_message: Status.COMPLETED,
                        working: Status.PROCESSING, just_started: Status.PROCESSING}
    assert Transfer.objects.filter(mass_upload__in=[dead_worker, lost_message]).count() == 2
    assert MassTransferUpload.objects.get(pk=dead_worker).attempts == 2


def test_the_upload_page_says_when_an_upload_is_being_retried(signed_in, trader, org, batch, second_account,
                                                             settings):
    settings.MASS_UPLOAD_MAX_ATTEMPTS = 3
    with mass_uploads_run_eagerly_never():
        upload = mass_upload_create(organization=org, user=trader,
                                    upload=SimpleUploadedFile("t.csv", one_row(batch, second_account).encode()))
    MassTransferUpload.objects.filter(pk=upload.pk).update(status=Status.PROCESSING, attempts=2)
    page = signed_in(trader).get(reverse("mass_uploads:detail", args=[upload.pk])).content.decode()
    assert "retrying (attempt 2 of 3)" in page


# --- real worker processes -----------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_eight_uploads_from_one_organization_at_once_all_complete(celery_processes, org, trader, issue,
                                                                   second_account):
    batches = [issue(100) for _ in range(8)]
    celery_processes.worker(pool="prefork", concurrency=8)
    uploads = [queue(org, trader, one_row(batch, second_account)) for batch in batches]
    wait_for(lambda: not MassTransferUpload.objects.filter(status__in=[Status.QUEUED, Status.PROCESSING]).exists(),
             message=lambda: list(MassTransferUpload.objects.values_list("pk", "status", "attempts")))
    assert set(MassTransferUpload.objects.values_list("status", flat=True)) == {Status.COMPLETED}
    assert Transfer.objects.filter(mass_upload__in=uploads).count() == 8
    assert ledger_breaches() == []


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def blocked_mid_upload(celery_processes, org, trader, batch, second_account):
    """Queue an upload and hold its batch from another connection, so the worker stops half way:
    the upload processing, its attempt counted, its transaction waiting for the batch."""
    upload = queue(org, trader, one_row(batch, second_account, quantity=7))
    wait_for(lambda: MassTransferUpload.objects.filter(pk=upload.pk, status=Status.PROCESSING, attempts=1).exists()
             and waiting_for_a_lock(), message="the worker did not reach the batch")
    return upload


def ended_once(upload):
    upload.refresh_from_db()
    assert upload.status == Status.COMPLETED, (upload.status, upload.errors)
    assert upload.attempts == 2
    assert list(Transfer.objects.filter(mass_upload=upload).values_list("items__batch__quantity", flat=True)) == [7]
    assert Transfer.objects.count() == 1 and ledger_breaches() == []


@pytest.mark.django_db(transaction=True)
def test_a_whole_worker_killed_mid_upload_then_restarted_ends_the_upload_once_within_the_sweep(
        celery_processes, org, trader, batch, second_account):
    sweep = {"MASS_UPLOAD_SWEEP_SECONDS": "2", "MASS_UPLOAD_STALLED_SECONDS": "2"}
    worker, _ = celery_processes.worker(**sweep)
    with held_by_another_connection(lambda: CertificateBatch.objects.select_for_update().get(pk=batch.pk)):
        upload = blocked_mid_upload(celery_processes, org, trader, batch, second_account)
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    # The broker keeps the dead worker's message for its visibility timeout (600 s); the sweep does not wait.
    celery_processes.worker(purge=False, **sweep)
    celery_processes.beat(**sweep)
    started = time.monotonic()
    wait_for(lambda: MassTransferUpload.objects.filter(pk=upload.pk, status=Status.COMPLETED).exists(), seconds=60,
             message=lambda: MassTransferUpload.objects.values_list("status", "attempts").get(pk=upload.pk))
    assert time.monotonic() - started < 30
    ended_once(upload)


@pytest.mark.django_db(transaction=True)
def test_a_pool_child_killed_mid_upload_ends_the_upload_once(celery_processes, org, trader, batch, second_account):
    worker, log = celery_processes.worker(pool="prefork", concurrency=1, MASS_UPLOAD_BUSY_RETRY_SECONDS="1")
    with held_by_another_connection(lambda: CertificateBatch.objects.select_for_update().get(pk=batch.pk)):
        upload = blocked_mid_upload(celery_processes, org, trader, batch, second_account)
        [child] = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
        os.kill(int(child), signal.SIGKILL)
        # The message comes back at once; the dead child's session still holds the upload until the
        # batch is free, so the redelivered task finds it busy and comes back later.
        wait_for(lambda: "UploadBusy" in log.read_text(), seconds=60, message=log.read_text)
    wait_for(lambda: MassTransferUpload.objects.filter(pk=upload.pk, status=Status.COMPLETED).exists(), seconds=60,
             message=lambda: MassTransferUpload.objects.values_list("status", "attempts").get(pk=upload.pk))
    ended_once(upload)
