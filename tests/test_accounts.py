"""The Accounts page's balances: what each account holds active, pending and retired."""

from accounts.selectors import accounts_with_balances
from transfers.services import Destination, TransferLine, transfer_create

from .conftest import retire


def test_balances_count_each_account_s_batches_by_status(org, trader, batch, account, retirement_account,
                                                          counterparty):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 100)],
                    destination=Destination.to_organization(counterparty))
    remainder = batch.certificate.batches.get(status="active", account=account)
    retire(organization=org, user=trader, lines=[TransferLine(remainder.pk, 50)], account=retirement_account)
    balances = {acc.pk: (acc.active_quantity, acc.pending_quantity, acc.retired_quantity)
                for acc in accounts_with_balances(org)}
    assert balances == {account.pk: (850, 100, 0), retirement_account.pk: (0, 0, 50)}
