"""Transfer emails are owed in the transfer's own transaction (TransferNotification) and sent by a
worker after it commits: none for a refused change, none lost when sending fails, none twice."""

from unittest import mock

import pytest
from django.core import mail

from transfers import tasks
from transfers.models import TransferNotification
from transfers.notifications import transfer_notifications_send
from transfers.services import TransferRefused, lifecycle, transfer_withdraw

from .conftest import send

pytestmark = pytest.mark.django_db(transaction=True)




def test_a_refused_transfer_owes_no_email(batch, trader, org, counterparty, counterparty_trader):
    mail.outbox.clear()
    with pytest.raises(TransferRefused):
        send(batch, trader, org, counterparty, quantity=batch.quantity + 1)
    assert not TransferNotification.objects.exists()
    assert mail.outbox == []


def test_each_step_sends_its_email_after_commit_and_owes_nothing_after(batch, trader, org, counterparty,
                                                                       counterparty_trader):
    mail.outbox.clear()
    transfer = send(batch, trader, org, counterparty)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([trader.email, counterparty_trader.email])
    mail.outbox.clear()
    transfer_withdraw(transfer=transfer, user=trader, organization=org)
    assert all("withdrawn" in m.subject for m in mail.outbox) and len(mail.outbox) == 2
    assert not TransferNotification.objects.exists()


def test_a_burst_of_commits_wakes_the_worker_once_and_beat_sends_the_rest(
        settings, monkeypatch, issue, trader, org, counterparty, counterparty_trader):
    settings.NOTIFICATION_NUDGE_SECONDS = 3600
    batches = [issue(100) for _ in range(3)]
    monkeypatch.setattr(lifecycle.notifications_nudge, "last", float("-inf"))
    with mock.patch.object(tasks.send_transfer_notifications, "delay") as delay:
        transfers = [send(batch, trader, org, counterparty) for batch in batches]
    assert delay.call_count == 1
    owed = list(TransferNotification.objects.values_list("transfer_id", flat=True))
    assert sorted(owed) == sorted(t.pk for t in transfers)

    mail.outbox.clear()
    assert tasks.send_transfer_notifications.apply().result == 3  # what beat runs
    assert len(mail.outbox) == 6 and not TransferNotification.objects.exists()
    assert tasks.send_transfer_notifications.apply().result == 0  # nothing is sent twice
    assert len(mail.outbox) == 6


def test_an_email_that_fails_to_send_stays_owed(settings, monkeypatch, batch, trader, org, counterparty,
                                                counterparty_trader):
    settings.NOTIFICATION_NUDGE_SECONDS = 3600
    # No nudge: the sends below are the only ones.
    monkeypatch.setattr(lifecycle.notifications_nudge, "last", float("inf"))
    transfer = send(batch, trader, org, counterparty)
    mail.outbox.clear()
    with mock.patch("transfers.notifications.transfer_notify", side_effect=ConnectionError("SMTP is down")):
        with pytest.raises(ConnectionError):
            transfer_notifications_send()
    assert list(TransferNotification.objects.values_list("transfer_id", flat=True)) == [transfer.pk]
    assert transfer_notifications_send() == 1
    assert {m.to[0] for m in mail.outbox} == {trader.email, counterparty_trader.email}
    assert not TransferNotification.objects.exists()
