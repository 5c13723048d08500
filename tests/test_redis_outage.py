"""While Redis (the cache and Celery's broker) is away, people still sign in, see their certificates
and transfer: sessions live in PostgreSQL, the emails owed wait in the outbox, and a wake-up the
broker could not take is logged, not shown to the user."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dev.devstack import embedded_redis_binary
from events.models import Claim, Event
from mass_uploads.models import MassTransferUpload
from portal.celery import app as celery_app
from transfers.models import Transfer

from .redis_servers import redis_server
from .test_mass_transfers import HEADER
from .test_signin import sign_in
from .test_wizard import start, walk


@pytest.fixture
def spare_redis(tmp_path):
    """A redis-server of this test's own, on a free port, for the test to stop (never the machine's)."""
    with redis_server(embedded_redis_binary(), tmp_path) as server:
        yield server


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    # Celery keeps its connection and producer pools for the broker it first reached.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def portal_on_spare_redis(settings, spare_redis, monkeypatch):
    """The portal's cache and broker are the spare Redis; tasks are published, not run in-process."""
    broker_url = celery_app.conf.broker_url  # read (and so loaded from the settings) before they change
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": spare_redis.url}}
    settings.CELERY_BROKER_URL = spare_redis.url
    _use_broker(spare_redis.url)
    celery_app.conf.task_always_eager = False
    monkeypatch.setattr("events.services._wakeups", {})  # their back-off ends with the test
    yield spare_redis
    celery_app.conf.task_always_eager = True
    _use_broker(broker_url)


@pytest.mark.django_db(transaction=True)  # commits for real, so the broker is called as in production
def test_sign_in_dashboard_and_transfers_work_while_redis_is_down(client, portal_on_spare_redis, trader, batch,
                                                                   counterparty, second_account, settings,
                                                                   tmp_path, caplog):
    settings.MEDIA_ROOT = tmp_path
    assert sign_in(client, trader.email, "demo").status_code == 302
    assert client.get("/healthz").status_code == 200  # the portal really is on the spare Redis
    portal_on_spare_redis.stop()
    assert client.get("/healthz").json()["broker"].startswith("error")

    dashboard = client.get(reverse("dashboard:certificates"))  # still signed in
    assert dashboard.status_code == 200 and batch.serial_number in dashboard.content.decode()
    client.post(reverse("logout"))
    assert sign_in(client, trader.email, "demo").status_code == 302
    assert client.get(reverse("dashboard:certificates")).status_code == 200

    draft = start(client, batch)
    done = walk(client, draft, {batch.pk: 100}, {"kind": "organization", "organization": counterparty.public_id})
    assert done.status_code == 302 and done.url == reverse("transfers:done", args=[draft.pk])
    assert client.get(done.url).status_code == 200
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.PENDING
    assert Event.objects.filter(subject_id=draft.pk, kind=Event.Kind.TRANSFER_SUBMITTED).exists()  # it waits for
    assert not Claim.objects.exists()  # the consumers, which beat runs
    assert any(record.name == "utilities.wakeups" and record.levelname == "WARNING" for record in caplog.records)

    csv = f"{HEADER}{batch.serial_number},10,,{second_account.public_id},\r\n".encode()
    uploaded = client.post(reverse("mass_uploads:uploads"), {"file": SimpleUploadedFile("transfers.csv", csv)})
    upload = MassTransferUpload.objects.get()
    assert uploaded.status_code == 302 and uploaded.url == reverse("mass_uploads:detail", args=[upload.pk])
    assert upload.status == MassTransferUpload.Status.QUEUED
    assert any("process_mass_upload" in record.getMessage() for record in caplog.records
               if record.levelname == "ERROR")


def test_the_admin_dashboard_works_while_redis_is_down(client, portal_on_spare_redis, staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    portal_on_spare_redis.stop()
    response = client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": "demo"})
    assert response.status_code == 302
    page = client.get("/admin/")
    assert page.status_code == 200 and "every ledger rule holds" in page.content.decode()
