"""Transfer emails are owed in the transfer's own transaction (its domain event) and sent by the
emails consumer after it commits: none for a refused change, none lost when sending fails, none
twice."""

from unittest import mock

import pytest
from django.core import mail

from events import services as event_services
from events import tasks
from events.models import Claim, Event
from events.services import events_consume
from transfers.services import TransferRefused, transfer_withdraw

from .conftest import send

pytestmark = pytest.mark.django_db(transaction=True)




def test_a_refused_transfer_owes_no_email(batch, trader, org, counterparty, counterparty_trader):
    mail.outbox.clear()
    before = Event.objects.count()  # the batch's issuance
    with pytest.raises(TransferRefused):
        send(batch, trader, org, counterparty, quantity=batch.quantity + 1)
    assert Event.objects.count() == before
    assert mail.outbox == []


def test_each_step_sends_its_email_after_commit_and_owes_nothing_after(batch, trader, org, counterparty,
                                                                       counterparty_trader):
    mail.outbox.clear()
    transfer = send(batch, trader, org, counterparty)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([trader.email, counterparty_trader.email])
    mail.outbox.clear()
    transfer_withdraw(transfer=transfer, user=trader, organization=org)
    assert all("withdrawn" in m.subject for m in mail.outbox) and len(mail.outbox) == 2
    assert not Claim.objects.filter(consumer="emails").exists()


def test_a_burst_of_commits_wakes_the_worker_once_and_beat_sends_the_rest(
        settings, monkeypatch, issue, trader, org, counterparty, counterparty_trader):
    settings.NOTIFICATION_NUDGE_SECONDS = 3600
    batches = [issue(100) for _ in range(3)]
    monkeypatch.setattr(event_services, "_wakeups", {})
    with mock.patch("utilities.wakeups.task_send") as delay:
        transfers = [send(batch, trader, org, counterparty) for batch in batches]
    # once for each consumer of a transfer's submission: the emails, the webhooks, the public statistics and
    # the messages to other registries (which then skip any transfer but an export)
    assert delay.call_count == 4
    owed = list(Event.objects.filter(kind=Event.Kind.TRANSFER_SUBMITTED).values_list("subject_id", flat=True))
    assert sorted(owed) == sorted(t.pk for t in transfers)

    mail.outbox.clear()
    assert tasks.send_events.apply(args=["emails"]).result == 3  # what beat's task sends
    assert len(mail.outbox) == 6 and not Claim.objects.filter(consumer="emails").exists()
    assert tasks.send_events.apply(args=["emails"]).result == 0  # nothing is sent twice
    assert len(mail.outbox) == 6


def test_an_email_that_fails_to_send_stays_owed(settings, no_wakeups, batch, trader, org, counterparty,
                                                counterparty_trader):
    transfer = send(batch, trader, org, counterparty)
    mail.outbox.clear()
    with mock.patch("notifications.consumer.transfer_notify", side_effect=ConnectionError("SMTP is down")):
        assert events_consume(consumer="emails") == 0
    owed = Claim.objects.get(consumer="emails")
    assert owed.event.subject_id == transfer.pk and "SMTP is down" in owed.last_error
    assert events_consume(consumer="emails") == 0  # not before its next attempt is due
    assert events_consume(consumer="emails", now=owed.due_at) == 1
    assert {m.to[0] for m in mail.outbox} == {trader.email, counterparty_trader.email}
    assert not Claim.objects.filter(consumer="emails").exists()
