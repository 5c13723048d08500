"""A broker who belongs to two organizations switches between them from the header; every page and
download then answers for the current one only, and what was chosen in one (the dashboard's
selection) does not follow into the other."""

import csv
import io

import pytest

from registry.models import Membership
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, transfer_create

from .factories import AccountFactory

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
