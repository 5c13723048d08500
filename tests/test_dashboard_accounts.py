"""The dashboard's Account filter and the Accounts page list open accounts first; the filter offers no
closed account unless it still holds some of the tab's batches (issue 26, item 14)."""

import re

from django.urls import reverse

from accounts.models import Account
from accounts.selectors import accounts_with_balances
from accounts.services import account_close, account_set_status
from transfers.services import Destination, TransferLine, export_confirm, transfer_create

from .factories import AccountFactory

DASHBOARD = reverse("dashboard:certificates")


def offered(client, query=""):
    content = client.get(DASHBOARD + query).content.decode()
    select = re.search(r'<select name="account".*?</select>', content, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_open_accounts_first_then_frozen_then_closed(org, manager, staff, account, retirement_account):
    archive = account_close(user=manager, organization=org, account=AccountFactory(organization=org, name="Archive"))
    frozen = AccountFactory(organization=org, name="Bond")
    account_set_status(user=staff, account=frozen, status=Account.Status.FROZEN)
    assert [a.name for a in accounts_with_balances(org)] == [account.name, retirement_account.name, frozen.name,
                                                            archive.name]


def test_the_filter_offers_no_empty_closed_account(signed_in, org, trader, manager, staff, holdings, account,
                                                   second_account):
    archive = account_close(user=manager, organization=org, account=AccountFactory(organization=org, name="Archive"))
    frozen = AccountFactory(organization=org, name="Bond")
    account_set_status(user=staff, account=frozen, status=Account.Status.FROZEN)
    client = signed_in(trader)
    assert offered(client) == ["All accounts", str(account), str(second_account), f"{frozen}, frozen"]
    # Chosen by a link (an old bookmark): still a valid filter, shown as chosen and marked.
    response = client.get(f"{DASHBOARD}?account={archive.public_id}&totals=1")
    assert not response.context["filter"].errors and response.context["totals"]["count"] == 0
    assert offered(client, f"?account={archive.public_id}")[-1] == f"{archive}, closed"
    assert f'<option value="{archive.public_id}" selected>' in response.content.decode()


def test_a_closed_account_that_keeps_exported_batches_is_offered_on_the_exported_tab(
        signed_in, org, trader, manager, staff, issue, tracking_system):
    desk = AccountFactory(organization=org, name="Export desk")
    batch = issue(300, account=desk)
    export = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
                             destination=Destination.export(tracking_system, "Cascade Utility"))
    export_confirm(transfer=export, user=staff)
    account_close(user=manager, organization=org, account=desk)
    client = signed_in(trader)
    assert f"{desk}, closed" not in offered(client, "?tab=active")
    assert offered(client, "?tab=exported")[-1] == f"{desk}, closed"
    response = client.get(f"{DASHBOARD}?tab=exported&account={desk.public_id}&totals=1")
    assert response.context["totals"]["count"] == 1
