"""Real parallel PostgreSQL connections racing for the same certificates."""

import threading

import pytest
from django.db import connection, connections

from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import (
    Destination,
    TransferLine,
    transfer_accept,
    transfer_create,
    transfer_withdraw,
)

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 8


def race(*calls):
    """Run each call in its own thread, on its own database connection, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = ("ok", call())
        except ServiceError as error:
            outcomes[index] = ("refused", str(error))
        except Exception as error:  # anything else is a defect the test must show
            outcomes[index] = ("error", repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def distinct_backends():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_eight_connections_moving_most_of_one_batch_exactly_one_wins(
        batch, trader, org, second_account, counterparty):
    def move(quantity, destination):
        return lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, quantity)],
                                       destination=destination)

    calls = [move(600 + i, Destination.internal(second_account) if i % 2 else
                  Destination.to_organization(counterparty)) for i in range(WORKERS)]
    outcomes = race(*calls)

    assert [kind for kind, _ in outcomes].count("ok") == 1, outcomes
    refusals = [message for kind, message in outcomes if kind == "refused"]
    assert len(refusals) == WORKERS - 1, outcomes
    assert all("has changed since it was selected" in message for message in refusals)
    live = CertificateBatch.objects.live().filter(certificate=batch.certificate)
    assert sum(b.quantity for b in live) == 1000
    assert Transfer.objects.count() == 1
    assert ledger_breaches() == []


def test_parallel_transfers_of_different_batches_all_succeed(issue, trader, org, second_account):
    batches = [issue(100) for _ in range(WORKERS)]
    outcomes = race(*[
        (lambda b=b: transfer_create(organization=org, user=trader, lines=[TransferLine(b.pk, 40)],
                                     destination=Destination.internal(second_account)))
        for b in batches
    ])
    assert [kind for kind, _ in outcomes] == ["ok"] * WORKERS, outcomes
    assert CertificateBatch.objects.filter(account=second_account, status="active").count() == WORKERS
    assert ledger_breaches() == []


def test_accept_racing_withdraw_exactly_one_wins(
        batch, trader, org, counterparty, counterparty_trader, counterparty_account, account):
    for _ in range(3):  # a few rounds: the winner may differ, the outcome may not
        live = CertificateBatch.objects.filter(certificate=batch.certificate, status="active",
                                               account=account).first()
        transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(live.pk, 100)],
                                   destination=Destination.to_organization(counterparty))
        calls = []
        for i in range(WORKERS):
            if i % 2:
                calls.append(lambda t=transfer: transfer_withdraw(transfer=t, user=trader, organization=org))
            else:
                calls.append(lambda t=transfer: transfer_accept(
                    transfer=t, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account))
        outcomes = race(*calls)
        assert [kind for kind, _ in outcomes].count("ok") == 1, outcomes
        assert [kind for kind, _ in outcomes].count("refused") == WORKERS - 1, outcomes
        transfer.refresh_from_db()
        moved = transfer.items.get().batch
        if transfer.status == Transfer.Status.COMPLETE:
            assert (moved.status, moved.account_id) == ("active", counterparty_account.pk)
        else:
            assert transfer.status == Transfer.Status.WITHDRAWN
            assert (moved.status, moved.account_id) == ("active", account.pk)
    assert sum(b.quantity for b in CertificateBatch.objects.live()) == 1000
    assert ledger_breaches() == []


def test_one_draft_confirmed_from_eight_tabs_at_once_is_one_transfer(batch, trader, org, second_account):
    """The draft is locked before the batches, in the same round trip: every later confirm waits
    for the first, then is told the transfer was already submitted (not that a batch changed)."""
    draft = Transfer.objects.create(organization=org, created_by=trader,
                                    draft={"lines": [[batch.pk, 300]], "step": 4})

    def confirm():
        mine = Transfer.objects.get(pk=draft.pk)  # each tab read the draft before pressing Transfer
        return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
                               destination=Destination.internal(second_account), draft=mine)

    outcomes = race(*[confirm] * WORKERS)
    assert [kind for kind, _ in outcomes].count("ok") == 1, outcomes
    assert [message for kind, message in outcomes if kind == "refused"] == \
        ["This transfer has already been submitted."] * (WORKERS - 1), outcomes
    assert Transfer.objects.get().status == Transfer.Status.COMPLETE
    assert CertificateBatch.objects.filter(account=second_account).get().quantity == 300
    assert ledger_breaches() == []


def test_two_managers_demoting_each_other_at_once_leave_one_manager(org, manager):
    from registry.models import Membership
    from registry.services import member_role_change

    from .factories import member

    second = member(org, Membership.Role.MANAGER, email="second-manager@prairiewind.example")
    first_membership, second_membership = (Membership.objects.get(user=user) for user in (manager, second))

    for _ in range(5):  # each round starts from two managers and races again
        outcomes = race(
            lambda: member_role_change(user=manager, organization=org, member=second_membership, role="trader"),
            lambda: member_role_change(user=second, organization=org, member=first_membership, role="trader"))
        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["ok", "refused"], outcomes
        refusal = next(message for kind, message in outcomes if kind == "refused")
        assert ("is the organization's only manager and cannot be demoted" in refusal
                or refusal.startswith("Only a manager of Prairie Wind Energy")), refusal
        assert Membership.objects.filter(organization=org, role="manager").count() == 1
        Membership.objects.filter(organization=org, user__in=[manager, second]).update(role="manager")


def test_two_managers_removing_each_other_at_once_leave_one_manager(org, manager):
    from registry.models import Membership
    from registry.services import member_remove

    from .factories import member

    second = member(org, Membership.Role.MANAGER, email="second-manager@prairiewind.example")
    first_membership, second_membership = (Membership.objects.get(user=user) for user in (manager, second))
    outcomes = race(lambda: member_remove(user=manager, organization=org, member=second_membership),
                    lambda: member_remove(user=second, organization=org, member=first_membership))
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    assert Membership.objects.filter(organization=org, role="manager").count() == 1


def test_closing_an_account_while_certificates_move_into_it_never_leaves_them_in_a_closed_account(
        issue, trader, manager, org):
    from accounts.services import account_close

    from .factories import AccountFactory

    for round in range(4):  # either may win a round; never both
        batch, destination = issue(100), AccountFactory(organization=org, name=f"Closing {round}")
        outcomes = race(
            lambda b=batch, d=destination: transfer_create(organization=org, user=trader,
                                                           lines=[TransferLine(b.pk, 100)],
                                                           destination=Destination.internal(d)),
            lambda d=destination: account_close(user=manager, organization=org, account=d))
        assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
        destination.refresh_from_db()
        held = CertificateBatch.objects.filter(account=destination, status="active").exists()
        assert held != (destination.status == "closed"), outcomes  # closed and empty, or open and holding
    assert ledger_breaches() == []


def test_eight_connections_retiring_and_transferring_the_same_batches_one_wins_per_batch(
        issue, trader, org, second_account, retirement_account):
    """Two connections race for each of four batches, one retiring it, one transferring it: exactly
    one move fits each batch, whichever comes first; the other is refused, and a retired batch
    stays retired."""
    from .conftest import retire

    batches = [issue(1000) for _ in range(WORKERS // 2)]
    calls = []
    for i in range(WORKERS):
        line = [TransferLine(batches[i // 2].pk, 400 + i)]
        calls.append((lambda line=line: retire(organization=org, user=trader, lines=line, account=retirement_account))
                     if i % 2 else
                     (lambda line=line: transfer_create(organization=org, user=trader, lines=line,
                                                        destination=Destination.internal(second_account))))
    outcomes = race(*calls)

    for pair in range(WORKERS // 2):
        kinds = [kind for kind, _ in outcomes[2 * pair:2 * pair + 2]]
        assert sorted(kinds) == ["ok", "refused"], outcomes
    assert all("has changed since it was selected" in message for kind, message in outcomes if kind == "refused")
    retired = Transfer.objects.filter(kind=Transfer.Kind.RETIREMENT).count()
    assert retired + Transfer.objects.filter(kind=Transfer.Kind.INTERNAL).count() == WORKERS // 2
    assert CertificateBatch.objects.filter(status="retired").count() == retired
    assert sum(b.quantity for b in CertificateBatch.objects.live()) == 1000 * (WORKERS // 2)
    assert ledger_breaches() == []
