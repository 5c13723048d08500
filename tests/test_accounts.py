"""The Accounts page: what each account holds active, pending and retired; a manager opens,
renames and closes the organization's accounts."""

import pytest
from django.urls import reverse

from accounts.models import Account
from accounts.selectors import accounts_with_balances
from accounts.services import account_open
from ledger.models import LedgerEvent
from registry.services import ServiceError
from transfers.services import Destination, TransferLine, transfer_create

from .conftest import retire, signed_in_as


def test_balances_count_each_account_s_batches_by_status(org, trader, batch, account, retirement_account,
                                                          counterparty):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 100)],
                    destination=Destination.to_organization(counterparty))
    remainder = batch.certificate.batches.get(status="active", account=account)
    retire(organization=org, user=trader, lines=[TransferLine(remainder.pk, 50)], account=retirement_account)
    balances = {acc.pk: (acc.active_quantity, acc.pending_quantity, acc.retired_quantity)
                for acc in accounts_with_balances(org)}
    assert balances == {account.pk: (850, 100, 0), retirement_account.pk: (0, 0, 50)}


# A manager runs the organization's accounts

def accounts_state():
    return (LedgerEvent.objects.count(), sorted(Account.objects.values_list("pk", "name", "type", "status")))


@pytest.mark.parametrize("type", ["active", "retirement", "reserve"])
def test_a_manager_opens_an_account_of_each_type(manager, org, type):
    response = signed_in_as(manager).post("/accounts/", {"name": "  Compliance   2026 ", "type": type}, follow=True)
    account = Account.objects.get(organization=org)
    assert (account.name, account.type, account.status) == ("Compliance 2026", type, "open")
    assert f"account Compliance 2026 ({account.public_id}) is open." in response.content.decode()
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ACCOUNT_OPENED)
    assert (event.actor, event.organization, event.account, event.after) == (
        manager, org, account, {"name": "Compliance 2026", "type": type, "status": "open"})


def test_bad_account_input_is_explained_and_changes_nothing(manager, org, account):
    client = signed_in_as(manager)
    before = accounts_state()
    for posted, message in [({"name": "", "type": "active"}, "Give the account a name."),
                            ({"name": "   ", "type": "active"}, "Give the account a name."),
                            ({"name": "x" * 201, "type": "active"},
                             "An account&#x27;s name is at most 200 characters."),
                            ({"name": "Savings", "type": "checking"},
                             "Choose an account type: active, retirement or reserve."),
                            ({"name": "main ACTIVE", "type": "reserve"},
                             "Prairie Wind Energy already has an account named main ACTIVE; choose another name.")]:
        response = client.post("/accounts/", posted)
        assert response.status_code == 200 and message in response.content.decode(), posted
    assert accounts_state() == before


def test_a_manager_renames_an_account_and_its_id_stays(manager, org, account, second_account):
    client = signed_in_as(manager)
    url = reverse("accounts:rename", args=[account.pk])
    assert 'value="Main active"' in client.get(url).content.decode()
    response = client.post(url, {"name": "Wind holdings"}, follow=True)
    assert f"Account {account.public_id} is renamed from Main active to Wind holdings." in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Wind holdings"
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ACCOUNT_RENAMED)
    assert (event.actor, event.account, event.before, event.after) == (
        manager, account, {"name": "Main active"}, {"name": "Wind holdings"})
    before = accounts_state()
    taken = client.post(url, {"name": "trading"}).content.decode()
    assert "Prairie Wind Energy already has an account named trading; choose another name." in taken
    same = client.post(url, {"name": "Wind holdings"}).content.decode()
    assert f"Account {account.public_id} is already named Wind holdings." in same
    assert "Give the account a name." in client.post(url, {"name": ""}).content.decode()
    assert accounts_state() == before


def test_an_empty_account_is_closed(manager, org, second_account):
    client = signed_in_as(manager)
    url = reverse("accounts:close", args=[second_account.pk])
    assert "Close Trading?" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert f"Account Trading ({second_account.public_id}) is closed." in response.content.decode()
    second_account.refresh_from_db()
    assert second_account.status == "closed"
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ACCOUNT_STATUS)
    assert (event.actor, event.before, event.after) == (manager, {"status": "open"}, {"status": "closed"})
    again = client.post(url, follow=True).content.decode()
    assert f"Account {second_account.public_id} is closed; only an open account can be closed." in again


def test_an_account_that_holds_certificates_is_not_closed(manager, trader, org, account, batch, counterparty):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 100)],
                    destination=Destination.to_organization(counterparty))
    before = accounts_state()
    response = signed_in_as(manager).post(reverse("accounts:close", args=[account.pk]), follow=True)
    assert (f"Account {account.public_id} (Main active) holds 1,000 certificates, 100 of them pending in a "
            "transfer; move them to another account before closing it.") in response.content.decode()
    assert accounts_state() == before


def test_traders_and_viewers_see_the_accounts_but_do_not_manage_them(trader, viewer, manager, account):
    before = accounts_state()
    for user in (trader, viewer):
        client = signed_in_as(user)
        page = client.get("/accounts/").content.decode()
        assert "Main active" in page and "Open an account" not in page and "/rename/" not in page
        assert client.post("/accounts/", {"name": "Mine", "type": "active"}).status_code == 403
        for name in ("accounts:rename", "accounts:close"):
            assert client.get(reverse(name, args=[account.pk])).status_code == 403
            assert client.post(reverse(name, args=[account.pk]), {"name": "Mine"}).status_code == 403
    assert accounts_state() == before
    page = signed_in_as(manager).get("/accounts/").content.decode()
    assert "Open an account" in page and reverse("accounts:rename", args=[account.pk]) in page


def test_another_organizations_account_is_not_found(outsider, account):
    client = signed_in_as(outsider)
    before = accounts_state()
    for name in ("accounts:rename", "accounts:close"):
        assert client.get(reverse(name, args=[account.pk])).status_code == 404
        assert client.post(reverse(name, args=[account.pk]), {"name": "Taken over"}).status_code == 404
    assert "Main active" not in client.get("/accounts/").content.decode()
    assert accounts_state() == before


def test_each_account_links_to_its_batches_on_the_dashboard(trader, account, retirement_account, batch):
    page = signed_in_as(trader).get("/accounts/").content.decode()
    assert f'href="/certificates/?account={account.public_id}"' in page
    assert f'href="/certificates/?tab=retired&amp;account={retirement_account.public_id}"' in page
    dashboard = signed_in_as(trader).get(f"/certificates/?account={account.public_id}").content.decode()
    assert "1 to 1000" in dashboard


def test_the_service_refuses_a_trader(trader, org):
    with pytest.raises(ServiceError, match="Only a manager of Prairie Wind Energy may do this."):
        account_open(user=trader, organization=org, name="Mine", type="active")


def test_an_account_change_locks_the_account_s_row_alone(manager, org, account):
    """A transfer holds the account and its organization FOR SHARE; a lock on the organization's row
    here, taken after the account's, deadlocked with one (the model's ordering joined it in)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import account_rename

    with CaptureQueriesContext(connection) as queries:
        account_rename(user=manager, organization=org, account=account, name="Renamed")
    locking = [query["sql"] for query in queries.captured_queries if "FOR UPDATE" in query["sql"]]
    assert locking and not any("registry_organization" in sql for sql in locking), locking
