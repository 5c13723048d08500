"""Emails and webhook deliveries wait on other people's servers: they run on a queue of their own
("outbound") with a worker pool of their own, so that a receiver dripping its answer (or a slow mail
server) never holds up uploads, issuance or expiry."""

from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from dev import devstack
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from portal.celery import app as celery_app
from webhooks.models import EventType, WebhookDelivery

from .conftest import ALL_QUEUES, send, wait_for
from .factories import WebhookEndpointFactory
from .webhook_receiver import DrippingReceiver

ROOT = Path(__file__).resolve().parents[1]
SENDING_TASKS = {  # every task that sends an email, a webhook delivery or a message to another registry
    "events.tasks.send_events", "events.tasks.send_events_to_every_consumer",
    "issuance.tasks.send_generation_upload_notification",
    "webhooks.tasks.send_webhook_deliveries",
    "imports.tasks.send_reconciliations",
}


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.django_db  # importing the tasks as a worker does runs Django's checks, which ask the server's version
def test_the_tasks_that_send_run_on_the_outbound_queue_and_the_rest_on_the_default_one():
    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if not name.startswith("celery.")}
    assert SENDING_TASKS <= ours
    assert {name: queue_of(name) for name in SENDING_TASKS} == dict.fromkeys(SENDING_TASKS, "outbound")
    assert {name: queue_of(name) for name in ours - SENDING_TASKS} == dict.fromkeys(ours - SENDING_TASKS, "celery")
    assert "mass_uploads.tasks.process_mass_upload" in ours and "transfers.tasks.expire_pending_transfers" in ours


def test_make_run_compose_and_the_test_workers_consume_both_queues_in_separate_pools():
    commands = devstack.celery_commands("WARNING")
    queues = {name: command[command.index("--queues") + 1] for name, command in commands.items() if name != "beat"}
    assert queues == {"worker": "celery", "outbound": "outbound"}
    assert {commands[name][commands[name].index("--hostname") + 1] for name in queues} == {"worker@%h", "outbound@%h"}

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    entrypoint = (ROOT / "docker-entrypoint.sh").read_text()
    for service, queue in (("worker", "celery"), ("outbound", "outbound")):
        assert compose[service]["command"] == [service]
        assert f"--queues {queue}\n" in entrypoint.split(f"  {service})")[1].split(";;")[0]
    assert set(ALL_QUEUES.split(",")) == {"celery", "outbound"}


@pytest.fixture
def dripping():
    receiver = DrippingReceiver(interval=0.5, seconds=600)
    yield receiver
    receiver.stop()  # before the workers stop: the stuck attempt ends at once


@pytest.mark.django_db(transaction=True)
def test_a_mass_upload_finishes_promptly_while_a_delivery_is_stuck_on_a_dripping_receiver(
        celery_processes, dripping, issue, trader, org, counterparty, second_account):
    env = {"WEBHOOKS_ALLOW_HTTP_HOSTS": "127.0.0.1", "WEBHOOKS_ATTEMPT_SECONDS": "600"}
    celery_processes.worker(queues="celery", **env)
    celery_processes.worker(queues="outbound", **env)
    WebhookEndpointFactory(organization=org, url=dripping.url, event_types=[EventType.TRANSFER_PENDING])
    send(issue(10), trader, org, counterparty, quantity=10)
    wait_for(lambda: dripping.open == 1, 60, lambda: list(WebhookDelivery.objects.values()))

    uploaded = issue(10)
    with transaction.atomic():  # as a request does: the task is sent when the upload is committed
        upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", (
            "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
            f"{uploaded.serial_number},5,,{second_account.public_id},\r\n").encode()))
    wait_for(lambda: MassTransferUpload.objects.filter(pk=upload.pk, finished_at__isnull=False).exists(), 30,
             lambda: "the upload waited behind the delivery")
    upload.refresh_from_db()
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    assert dripping.open == 1  # the delivery was stuck all along
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == (WebhookDelivery.Status.PENDING, 1, None)
