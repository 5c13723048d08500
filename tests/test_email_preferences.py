"""Each user chooses which emails they get; the outbox reads the choice as it sends, and every email
links to the choices."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from events.services import events_consume
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from registry.models import EmailEvent, Membership, User
from transfers.services import transfer_accept, transfer_withdraw

from .conftest import send
from .factories import member

pytestmark = pytest.mark.django_db(transaction=True)  # the emails go after the commit, as in the portal


BAD_UPLOAD = b"Serial Number,Quantity,Organization ID,Account ID,Notes\r\nnonsense,5,,,\n"


def opt_out(user, *events):
    User.objects.filter(pk=user.pk).update(email_opt_outs=list(events))


def addressees():
    return sorted(address for message in mail.outbox for address in message.to)


def test_every_email_is_on_until_turned_off(trader):
    assert trader.email_opt_outs == []
    assert all(trader.wants_email(event) for event in EmailEvent.values)


def test_a_transfer_waiting_for_us_reaches_only_those_who_want_it(batch, trader, org, counterparty,
                                                                   counterparty_trader):
    manager = member(counterparty, Membership.Role.MANAGER, email="manager@lakeshore.example")
    opt_out(counterparty_trader, EmailEvent.TRANSFER_RECEIVED)
    mail.outbox.clear()
    send(batch, trader, org, counterparty)
    assert addressees() == sorted([trader.email, manager.email])


def test_the_submitter_can_turn_off_their_own_confirmation_but_still_hears_it_was_accepted(
        batch, trader, org, counterparty, counterparty_trader, counterparty_account):
    opt_out(trader, EmailEvent.TRANSFER_SENT)
    mail.outbox.clear()
    transfer = send(batch, trader, org, counterparty)
    assert addressees() == [counterparty_trader.email]
    mail.outbox.clear()
    transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    assert addressees() == sorted([trader.email, counterparty_trader.email])


def test_the_outbox_reads_the_choice_when_it_sends_not_when_the_email_was_owed(
        no_wakeups, batch, trader, org, counterparty, counterparty_trader):
    transfer = send(batch, trader, org, counterparty)  # nothing sent at commit: the email waits
    mail.outbox.clear()
    events_consume(consumer="emails")
    mail.outbox.clear()
    transfer_withdraw(transfer=transfer, user=trader, organization=org)
    opt_out(counterparty_trader, EmailEvent.TRANSFER_WITHDRAWN)  # after it was owed, before it is sent
    assert events_consume(consumer="emails") == 1
    assert addressees() == [trader.email]


def test_an_upload_email_is_not_sent_to_an_uploader_who_turned_it_off(org, trader, batch, second_account,
                                                                       settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    opt_out(trader, EmailEvent.UPLOAD_FINISHED)
    mail.outbox.clear()
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("bad.csv", BAD_UPLOAD))
    upload.refresh_from_db()
    assert upload.status == MassTransferUpload.Status.FAILED
    assert mail.outbox == []


def test_every_transfer_and_upload_email_links_to_the_choices(settings, batch, trader, org, counterparty,
                                                              counterparty_trader, second_account, tmp_path):
    settings.SITE_URL, settings.MEDIA_ROOT = "https://registry.example.org", tmp_path
    mail.outbox.clear()
    send(batch, trader, org, counterparty)
    mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("bad.csv", BAD_UPLOAD))
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert "Choose which emails you get: https://registry.example.org/settings/#emails" in message.body
        assert 'href="https://registry.example.org/settings/#emails"' in message.alternatives[0][0]


def test_the_settings_page_saves_the_choices(trader):
    client = Client()
    client.force_login(trader)
    page = client.get(reverse("settings")).content.decode()
    assert "A transfer is waiting for us to accept or reject" in page and 'id="emails"' in page
    assert page.count('name="emails"') == len(EmailEvent.values) and page.count("checked") == len(EmailEvent.values)
    wanted = [EmailEvent.TRANSFER_RECEIVED, EmailEvent.TRANSFER_ACCEPTED]
    response = client.post(reverse("settings"), {"section": "emails", "emails": wanted}, follow=True)
    assert "Your email choices are saved" in response.content.decode()
    trader.refresh_from_db()
    assert sorted(trader.email_opt_outs) == sorted(set(EmailEvent.values) - set(wanted))
    assert response.content.decode().count("checked") == 2
    client.post(reverse("settings"), {"section": "emails"})  # nothing ticked: every email off
    trader.refresh_from_db()
    assert sorted(trader.email_opt_outs) == sorted(EmailEvent.values)


def test_an_unknown_email_posted_is_refused_and_changes_nothing(trader):
    client = Client()
    client.force_login(trader)
    response = client.post(reverse("settings"), {"section": "emails", "emails": ["transfer_received", "spam"]})
    assert "“spam” is not one of the emails listed; tick the ones you want." in response.content.decode()
    trader.refresh_from_db()
    assert trader.email_opt_outs == [] and trader.time_zone == "America/Chicago"
