"""Real Celery processes on Redis: the worker drains the outbox, owes the delivery, is woken to POST it
to a real receiver, signed as Standard Webhooks (the standardwebhooks package verifies both attempts);
beat runs the retry after the receiver's first 500."""

import pytest
from standardwebhooks.webhooks import Webhook

from webhooks.models import WebhookDelivery

from .conftest import send, wait_for
from .factories import WebhookEndpointFactory
from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


def test_a_worker_delivers_and_beat_retries(celery_processes, receiver, batch, trader, org, counterparty):
    env = {"WEBHOOKS_ALLOW_HTTP_HOSTS": "127.0.0.1", "WEBHOOKS_RETRY_FIRST_SECONDS": "1",
           "WEBHOOKS_SEND_SECONDS": "1", "NOTIFICATION_SEND_SECONDS": "1"}
    celery_processes.worker(**env)
    celery_processes.beat(**env)
    hook = WebhookEndpointFactory(organization=org, url=receiver.url)
    receiver.answers = [500]
    send(batch, trader, org, counterparty)

    wait_for(lambda: WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).exists(), 60,
             lambda: list(WebhookDelivery.objects.values()))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint_id, delivery.attempts, delivery.last_response_code) == (hook.pk, 2, 200)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [str(delivery.event_id)] * 2
    for request in receiver.requests:  # what a receiver does with each: the standardwebhooks package checks it
        assert Webhook(hook.secret).verify(request["body"], request["headers"]) == delivery.payload
