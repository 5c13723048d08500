"""A mass upload's emails: one to its uploader (the upload's own) and one to each organization it
sent certificates to (its transfers listed, or counted with a link to its Pending tab when many), not
one per row; the webhooks still get one delivery per transfer, as for any transfer."""

import re
from unittest import mock

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Claim
from events.services import events_consume
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from notifications import transfers as notifications
from registry.models import EmailEvent, Membership, User
from webhooks import services as webhook_services
from webhooks.models import EventType, WebhookDelivery

from .conftest import ledger_state
from .factories import AccountFactory, OrganizationFactory, RetirementOptionFactory, WebhookEndpointFactory, member

pytestmark = pytest.mark.django_db(transaction=True)  # the emails go after the commit, as in the portal
HEADER = "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
RETIREMENT_HEADER = "Serial Number,Quantity,Retirement Account ID,Option,Compliance Period,Beneficiary,Period Start," \
                    "Period End,Notes\r\n"


@pytest.fixture(autouse=True)
def setup(mass_media, settings, monkeypatch):
    settings.SITE_URL = "https://registry.example"
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(notifications, "ITEMS_IN_EMAIL", 3)  # more than 3 transfers are counted, not listed
    monkeypatch.setattr(webhook_services, "_deliveries_nudge", lambda: None)  # owed, not attempted


@pytest.fixture
def northstar(db):
    organization = OrganizationFactory(name="Northstar REC Brokers")
    AccountFactory(organization=organization, name="Northstar active")
    return organization


@pytest.fixture
def northstar_members(northstar):
    return [member(northstar, Membership.Role.TRADER, email="trader@northstar.example"),
            member(northstar, Membership.Role.MANAGER, email="manager@northstar.example"),
            member(northstar, Membership.Role.VIEWER, email="viewer@northstar.example")]


def upload(org, user, content, name="transfers.csv", kind="transfer") -> MassTransferUpload:
    """Upload the file; its task runs (eagerly) after the commit, and so do its emails."""
    made = mass_upload_create(organization=org, user=user, upload=SimpleUploadedFile(name, content.encode()), kind=kind)
    made.refresh_from_db()
    assert made.status == MassTransferUpload.Status.COMPLETED, made.errors
    return made


def rows_to(batch, destinations) -> str:
    """One row of 10 certificates per (organization, account, note): each its own transfer."""
    return HEADER + "".join(f"{batch.serial_number},10,{organization},{account},{note}\r\n"
                            for organization, account, note in destinations)


def emails_to(address):
    return [message for message in mail.outbox if address in message.to]


def test_an_upload_to_several_organizations_sends_one_email_to_each_and_one_to_the_uploader(
        org, trader, batch, second_account, counterparty, counterparty_trader, northstar, northstar_members):
    rows = ([(counterparty.public_id, "", f"Sale {n}") for n in range(2)]
            + [(northstar.public_id, "", f"Contract {n}") for n in range(5)]
            + [("", second_account.public_id, f"Rebalance {n}") for n in range(2)])
    mail.outbox.clear()
    made = upload(org, trader, rows_to(batch, rows))
    for message in mail.outbox:
        print(f"--- To: {', '.join(message.to)}\nSubject: {message.subject}\n\n{message.body}")

    assert made.transfers.count() == 9 and not Claim.objects.exists()
    assert len(mail.outbox) == 3  # not 18: one per transfer to each side, and the upload's
    [to_uploader] = emails_to(trader.email)
    assert to_uploader.subject == "[Midwest Renewable Energy Registry] Mass transfer transfers.csv: 9 transfers made"
    assert "All 9 rows were applied in 9 transfers:" in to_uploader.body

    [to_lakeshore] = emails_to(counterparty_trader.email)
    assert to_lakeshore.to == [counterparty_trader.email]
    assert to_lakeshore.subject == ("[Midwest Renewable Energy Registry] 2 transfers from Prairie Wind Energy are "
                                    "waiting for you to accept or reject them")
    sales = list(made.transfers.filter(recipient_organization=counterparty).order_by("pk"))
    assert (f"Prairie Wind Energy ({org.public_id}) sent Lakeshore Power Cooperative ({counterparty.public_id}) "
            "2 transfers, 20 certificates in all, by mass upload, on ") in to_lakeshore.body
    assert "Each is pending until you accept or reject it; any still pending on " in to_lakeshore.body
    for sale in sales:
        assert f"  Transfer {sale.pk}: 10 certificates in 1 batch. Notes: {sale.notes}\n" in to_lakeshore.body
        assert f'href="https://registry.example/transfers/{sale.pk}/?organization={counterparty.public_id}"' in \
            to_lakeshore.alternatives[0][0]
    pending_tab = f"https://registry.example/certificates/?tab=pending&organization={counterparty.public_id}"
    assert f"Accept each into one of your active accounts, or reject it, on the Pending tab: {pending_tab}\n" in \
        to_lakeshore.body

    [to_northstar] = emails_to("trader@northstar.example")  # its traders and managers, not its viewers
    assert sorted(to_northstar.to) == ["manager@northstar.example", "trader@northstar.example"]
    assert "5 transfers from Prairie Wind Energy are waiting" in to_northstar.subject
    assert "5 transfers, 50 certificates in all" in to_northstar.body
    assert "They are too many to list here: the Pending tab lists them all." in to_northstar.body
    assert not re.search(r"Transfer \d+:", to_northstar.body)
    for message in mail.outbox:
        assert "(s)" not in message.subject + message.body and not re.search(r"\b1 \w+s\b", message.subject)


def test_one_transfer_to_an_organization_is_worded_as_one(org, trader, batch, counterparty, counterparty_trader):
    mail.outbox.clear()
    made = upload(org, trader, rows_to(batch, [(counterparty.public_id, "", "Q1 delivery")]))
    sale = made.transfers.get()
    [email] = emails_to(counterparty_trader.email)
    assert email.subject == (f"[Midwest Renewable Energy Registry] Transfer {sale.pk} from Prairie Wind Energy is "
                             "waiting for you to accept or reject it")
    assert "a transfer of 10 certificates by mass upload" in email.body
    assert "It is pending until you accept or reject it; if still pending on " in email.body
    assert (f"on the transfer's page: https://registry.example/transfers/{sale.pk}/"
            f"?organization={counterparty.public_id}\n") in email.body
    assert len(mail.outbox) == 2


def test_a_member_who_turned_off_transfers_waiting_for_us_gets_none(
        org, trader, batch, counterparty, counterparty_trader):
    User.objects.filter(pk=counterparty_trader.pk).update(email_opt_outs=[EmailEvent.TRANSFER_RECEIVED])
    mail.outbox.clear()
    upload(org, trader, rows_to(batch, [(counterparty.public_id, "", f"Sale {n}") for n in range(3)]))
    assert [message.to for message in mail.outbox] == [[trader.email]]


def test_a_mass_retirement_sends_one_email_to_the_other_managers(org, trader, manager, batch, retirement_account):
    option = RetirementOptionFactory()
    content = RETIREMENT_HEADER + "".join(
        f"{batch.serial_number},5,{retirement_account.public_id},{option.name},2024,,,,Claim {n}\r\n" for n in range(4))
    mail.outbox.clear()
    made = upload(org, trader, content, name="retire.csv", kind=MassTransferUpload.Kind.RETIREMENT)
    assert made.transfers.count() == 4
    assert sorted(message.to[0] for message in mail.outbox) == [manager.email, trader.email]
    [to_manager] = emails_to(manager.email)
    assert to_manager.subject == ("[Midwest Renewable Energy Registry] Certificates retired: 4 retirements by the "
                                  "mass upload retire.csv")
    assert (f"{trader.full_name} (trader@prairiewind.example) retired 20 certificates of Prairie Wind Energy "
            f"({org.public_id}) in 4 retirements, from the mass upload retire.csv, on ") in to_manager.body
    retired_tab = f"https://registry.example/certificates/?tab=retired&organization={org.public_id}"
    assert f"See them on the Retired tab: {retired_tab}" in to_manager.body


def test_the_webhooks_still_get_one_delivery_per_transfer(org, trader, batch, second_account, counterparty,
                                                          counterparty_trader, northstar):
    hooks = {organization.public_id: WebhookEndpointFactory(organization=organization, event_types=EventType.values)
             for organization in (org, counterparty, northstar)}
    rows = ([(counterparty.public_id, "", f"Sale {n}") for n in range(2)]
            + [(northstar.public_id, "", f"Contract {n}") for n in range(5)]
            + [("", second_account.public_id, "Rebalance")])
    made = upload(org, trader, rows_to(batch, rows))

    sales = list(made.transfers.filter(kind="organization"))
    owed = list(WebhookDelivery.objects.filter(event_type=EventType.TRANSFER_PENDING))
    # each pending transfer once to the sender's endpoint and once to its recipient's, as one by one
    assert sorted((d.endpoint_id, d.payload["data"]["transfer"]["id"]) for d in owed) == sorted(
        [(hooks[org.public_id].pk, sale.pk) for sale in sales]
        + [(hooks[sale.recipient_organization.public_id].pk, sale.pk) for sale in sales])
    assert WebhookDelivery.objects.filter(event_type=EventType.UPLOAD_FINISHED).count() == 1
    assert WebhookDelivery.objects.count() == 2 * 7 + 1


def test_a_failed_email_leaves_the_uploads_emails_owed_and_its_deliveries_owed_at_once(
        no_wakeups, org, trader, batch, counterparty, counterparty_trader):
    WebhookEndpointFactory(organization=counterparty, event_types=EventType.values)
    upload(org, trader, rows_to(batch, [(counterparty.public_id, "", f"Sale {n}") for n in range(3)]))
    mail.outbox.clear()
    with mock.patch("registry.emails.email_send", side_effect=ConnectionError("SMTP is down")):
        assert events_consume(consumer="emails") == 0  # its transfers' own events are in the upload's emails
    [owed] = Claim.objects.filter(consumer="emails")  # the upload's: its grouped email failed
    assert owed.event.kind == "upload.finished" and "SMTP is down" in owed.last_error
    assert events_consume(consumer="webhooks") == 4  # the deliveries did not wait for the email
    assert WebhookDelivery.objects.filter(event_type=EventType.TRANSFER_PENDING).count() == 3
    mail.outbox.clear()
    assert events_consume(consumer="emails", now=owed.due_at) == 1
    assert len(mail.outbox) == 2  # the uploader's again (sent at least once), and the grouped one
    assert events_consume(consumer="emails", now=owed.due_at) == 0


def test_the_emails_of_an_upload_take_the_same_queries_however_many_rows(
        no_wakeups, org, trader, issue, counterparty, counterparty_trader, northstar, northstar_members):

    def queries_to_send(rows: int) -> int:
        batch = issue(1000)
        upload(org, trader, rows_to(batch, [(organization.public_id, "", f"Row {n}")
                                            for n in range(rows) for organization in (counterparty, northstar)]))
        before = ledger_state()
        mail.outbox.clear()
        # the emails consumer only: the webhooks' (per transfer, as for any transfer) are theirs
        with CaptureQueriesContext(connection) as queries:
            assert events_consume(consumer="emails") == 1  # the upload's event; its transfers' are in it
        # one to each organization, and the uploader's (sent for the same event since it became one)
        assert len(mail.outbox) == 3 and ledger_state() == before
        return len(queries)

    assert queries_to_send(2) == queries_to_send(40)
