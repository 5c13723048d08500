"""A broker who belongs to two organizations switches between them from the header; every page and
download then answers for the current one only, and what was chosen in one (the dashboard's
selection) does not follow into the other."""

import csv
import html
import io
import re

import pytest
from django.core import mail

from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from registry.models import Membership
from transfers.models import Transfer
from transfers.notifications import transfer_notifications_send
from transfers.services import Destination, TransferLine, transfer_create

from .conftest import send
from .factories import AccountFactory, GeneratorFactory

SWITCH = "/organization/"


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


@pytest.fixture
def broker(trader, counterparty):
    """The trader of `org`, also a trader of `counterparty`."""
    Membership.objects.create(user=trader, organization=counterparty, role=Membership.Role.TRADER)
    return trader


@pytest.fixture
def internal_transfers(org, broker, holdings, second_account, counterparty, counterparty_trader, foreign_batch):
    """One internal transfer in each organization."""
    ours = transfer_create(organization=org, user=broker, lines=[TransferLine(holdings["wind"].pk, 10)],
                           destination=Destination.internal(second_account))
    other_account = AccountFactory(organization=counterparty, name="Lakeshore trading")
    theirs = transfer_create(organization=counterparty, user=counterparty_trader,
                             lines=[TransferLine(foreign_batch.pk, 7)], destination=Destination.internal(other_account))
    return ours, theirs


def switch(client, organization):
    return client.post(SWITCH, {"organization": organization.pk})


def test_after_switching_every_page_and_download_is_the_other_organizations(
        signed_in, broker, org, counterparty, holdings, foreign_batch, internal_transfers):
    ours, theirs = internal_transfers
    client = signed_in(broker)
    switch(client, org)
    assert client.get(f"/transfers/{ours.pk}/").status_code == 200
    response = switch(client, counterparty)
    assert response.status_code == 302 and response["Location"] == "/certificates/"

    dashboard = client.get("/certificates/")
    assert dashboard.context["membership"].organization == counterparty
    assert {batch.account.organization_id for batch in dashboard.context["page"].object_list} == {counterparty.pk}
    rows = csv_rows(client.get("/certificates/download.csv"))[1:]
    assert rows and all(row[0].startswith(foreign_batch.certificate.serial_base) for row in rows)
    transactions = csv_rows(client.get("/transfers/transactions.csv"))[1:]
    assert [int(row[0]) for row in transactions] == [theirs.pk]

    for path in (f"/transfers/{ours.pk}/", f"/transfers/{ours.pk}/summary.csv", f"/transfers/{ours.pk}/summary.pdf"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/transfers/{theirs.pk}/").status_code == 200

    accounts = client.get("/accounts/").content.decode()
    assert "Lakeshore active" in accounts and "Main active" not in accounts
    log = client.get("/organization/activity/", {"per_page": 500}).context["rows"]
    assert log and all(counterparty.pk in {event.organization_id, getattr(event.transfer, "recipient_organization_id",
                                                                         None)} for event, _, _ in log)
    activity_csv = "".join(",".join(row) for row in csv_rows(client.get("/organization/activity.csv")))
    assert "Main active" not in activity_csv and f"transfer {ours.pk}" not in activity_csv

    switch(client, org)
    assert client.get(f"/transfers/{ours.pk}/").status_code == 200
    assert client.get(f"/transfers/{theirs.pk}/").status_code == 404


def test_the_other_organizations_batches_cannot_be_transferred_from_the_current_one(
        signed_in, broker, counterparty, holdings):
    client = signed_in(broker)
    switch(client, counterparty)
    response = client.get("/transfers/new/", {"batch": holdings["wind"].pk}, follow=True)  # org's batch, by link
    text = response.content.decode()
    assert "1 of the chosen batches are not active certificates of Lakeshore Power Cooperative" in text
    assert not Transfer.objects.filter(organization=counterparty).exists()


def test_switching_to_an_organization_one_is_not_a_member_of_is_refused(signed_in, broker, org, outsider):
    client = signed_in(broker)
    switch(client, org)
    other = outsider.memberships.get().organization
    assert switch(client, other).status_code == 404
    assert client.post(SWITCH, {"organization": "x"}).status_code == 404
    assert client.get("/certificates/").context["membership"].organization == org


def test_the_selection_made_in_one_organization_does_not_follow_into_the_other(
        signed_in, broker, org, counterparty, holdings, foreign_batch):
    client = signed_in(broker)
    switch(client, org)
    client.post("/certificates/selection/", {"action": "add", "page_batch": holdings["wind"].pk})
    assert client.get("/certificates/").context["selection_count"] == 1
    switch(client, counterparty)
    dashboard = client.get("/certificates/")
    assert dashboard.context["selection_count"] == 0
    assert dashboard.context["selected"] == set()


@pytest.fixture
def incoming_for_the_other(counterparty, outsider, staff):
    """A transfer from a third organization to `counterparty`, pending."""
    third = outsider.memberships.get().organization
    third_account = AccountFactory(organization=third, name="Outsider active")
    generator = GeneratorFactory(organization=third, code="M777", name="Outsider Wind")
    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2020, 1),
                                    quantity=50, account=third_account)
    return send(CertificateBatch.objects.get(certificate=certificate), outsider, third, counterparty, quantity=50)


def test_an_emails_link_for_the_other_organization_offers_to_switch_to_it(
        settings, signed_in, broker, org, counterparty, incoming_for_the_other):
    settings.SITE_URL = "http://testserver"
    mail.outbox.clear()
    transfer_notifications_send()
    [email] = [message for message in mail.outbox if broker.email in message.to]
    link = re.search(r"http://testserver(\S+)", email.body).group(1)
    assert link == f"/transfers/{incoming_for_the_other.pk}/?organization={counterparty.public_id}"

    client = signed_in(broker)
    switch(client, org)  # working in the other organization when the email arrives
    page = client.get(link)
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert "This link is for Lakeshore Power Cooperative" in text and "You are working in Prairie Wind Energy" in text
    assert client.get(f"/certificates/?organization={org.public_id}").context["membership"].organization == org
    detail = f"/transfers/{incoming_for_the_other.pk}/"
    assert f'name="next" value="{detail}"' in text
    response = client.post(SWITCH, {"organization": counterparty.pk, "next": detail})
    assert response["Location"] == detail
    assert client.get(response["Location"]).status_code == 200


def test_a_link_for_an_organization_one_is_not_in_changes_nothing(signed_in, broker, org, outsider,
                                                                  incoming_for_the_other):
    client = signed_in(broker)
    switch(client, org)
    third = outsider.memberships.get().organization
    assert client.get(f"/transfers/{incoming_for_the_other.pk}/?organization={third.public_id}").status_code == 404
    assert client.get("/certificates/").context["membership"].organization == org


@pytest.mark.parametrize("next_url", ["https://elsewhere.example/", "//elsewhere.example/", "javascript:alert(1)"])
def test_switching_never_goes_to_another_site(signed_in, broker, counterparty, next_url):
    response = signed_in(broker).post(SWITCH, {"organization": counterparty.pk, "next": next_url})
    assert response["Location"] == "/certificates/"
