import datetime

import pytest
from django.utils import timezone

from accounts.models import Account
from certificates.models import CertificateBatch
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.models import Organization
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import (
    AlreadyInAccount,
    BatchChanged,
    Destination,
    DraftAlreadySubmitted,
    TransferLine,
    TransferRefused,
    export_confirm,
    export_reject,
    transfer_accept,
    transfer_create,
    transfer_draft_save,
    transfer_reject,
    transfer_withdraw,
    transfers_expire,
)

from .conftest import ledger_state, retire
from .factories import AccountFactory

Status = CertificateBatch.Status


def ranges(queryset):
    return sorted((b.serial_start, b.serial_end, b.status, b.account_id) for b in queryset)


def send_to_counterparty(batch, trader, org, counterparty, quantity):
    return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, quantity)],
                           destination=Destination.to_organization(counterparty))


def test_partial_transfer_moves_lowest_serials(batch, trader, org, second_account, account):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 250)],
                               destination=Destination.internal(second_account), notes="Q1 hedge")

    assert transfer.status == Transfer.Status.COMPLETE
    batch.refresh_from_db()
    assert batch.status == Status.SUPERSEDED
    children = batch.children.all()
    assert ranges(children) == [
        (1, 250, Status.ACTIVE, second_account.pk),
        (251, 1000, Status.ACTIVE, account.pk),
    ]
    item = transfer.items.get()
    assert (item.batch.serial_start, item.batch.serial_end, item.source_batch_id) == (1, 250, batch.pk)
    assert ledger_breaches() == []


def test_whole_batch_moves_as_it_is(batch, trader, org, second_account):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1000)],
                    destination=Destination.internal(second_account))
    batch.refresh_from_db()
    assert (batch.account_id, batch.status, batch.parent_id) == (second_account.pk, Status.ACTIVE, None)
    assert not batch.children.exists()


def test_split_and_transfer_are_in_the_ledger(batch, trader, org, second_account):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                               destination=Destination.internal(second_account))
    split = LedgerEvent.objects.get(kind=LedgerEvent.Kind.SPLIT, batch=batch)
    assert split.actor == trader
    assert split.before["serial_end"] == 1000
    assert [c["serial_start"] for c in split.after["children"]] == [1, 11]
    initiated = LedgerEvent.objects.get(kind=LedgerEvent.Kind.TRANSFER_INITIATED, transfer=transfer)
    assert initiated.before["batches"][0]["batch"] == batch.pk
    assert initiated.after["batches"][0]["account"] == second_account.pk


def test_split_event_records_the_batches_as_they_are_stored(batch, trader, org, second_account):
    """The split event is written by SQL; it says exactly what snapshot() says of the stored rows."""
    before = batch.snapshot()
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                    destination=Destination.internal(second_account))
    split = LedgerEvent.objects.get(kind=LedgerEvent.Kind.SPLIT, batch=batch)
    moved, staying = CertificateBatch.objects.filter(parent=batch).order_by("serial_start")
    assert split.before == before
    assert split.after == {"children": [moved.snapshot(), staying.snapshot()]}
    assert (split.organization_id, split.certificate_id, split.transfer_id, split.account_id, split.note) == (
        org.pk, batch.certificate_id, None, None, "")


def test_transfer_to_another_organization_is_pending_and_frozen(batch, trader, org, counterparty, account):
    transfer = send_to_counterparty(batch, trader, org, counterparty, 400)
    assert transfer.status == Transfer.Status.PENDING
    moved = transfer.items.get().batch
    assert (moved.serial_start, moved.serial_end, moved.status, moved.account_id) == (
        1, 400, Status.PENDING, account.pk)
    with pytest.raises(TransferRefused, match="is pending"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(moved.pk, 1)],
                        destination=Destination.to_organization(counterparty))


def test_accept_moves_batches_into_recipient_account(
        batch, trader, org, counterparty, counterparty_trader, counterparty_account):
    transfer = send_to_counterparty(batch, trader, org, counterparty, 400)
    transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    transfer.refresh_from_db()
    moved = transfer.items.get().batch
    assert transfer.status == Transfer.Status.COMPLETE
    assert transfer.destination_account == counterparty_account
    assert (moved.status, moved.account_id) == (Status.ACTIVE, counterparty_account.pk)
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.TRANSFER_ACCEPTED, transfer=transfer).count() == 1
    assert ledger_breaches() == []


@pytest.mark.parametrize("how", ["reject", "withdraw", "expire"])
def test_returned_transfer_gives_every_batch_back(
        how, batch, trader, org, counterparty, counterparty_trader, account):
    transfer = send_to_counterparty(batch, trader, org, counterparty, 400)
    if how == "reject":
        transfer_reject(transfer=transfer, user=counterparty_trader, organization=counterparty, note="wrong vintage")
        expected = Transfer.Status.REJECTED
    elif how == "withdraw":
        transfer_withdraw(transfer=transfer, user=trader, organization=org)
        expected = Transfer.Status.WITHDRAWN
    else:
        assert transfers_expire() == 0  # not overdue yet
        assert transfers_expire(now=timezone.now() + datetime.timedelta(days=31)) == 1
        expected = Transfer.Status.EXPIRED
    transfer.refresh_from_db()
    assert transfer.status == expected
    live = CertificateBatch.objects.live().filter(certificate=batch.certificate)
    assert ranges(live) == [(1, 400, Status.ACTIVE, account.pk), (401, 1000, Status.ACTIVE, account.pk)]
    assert ledger_breaches() == []


def test_a_decided_transfer_cannot_be_decided_again(
        batch, trader, org, counterparty, counterparty_trader, counterparty_account):
    transfer = send_to_counterparty(batch, trader, org, counterparty, 400)
    transfer_withdraw(transfer=transfer, user=trader, organization=org)
    with pytest.raises(TransferRefused, match=r"^This transfer was already withdrawn\.$"):
        transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty,
                        account=counterparty_account)


def test_only_the_recipient_accepts_and_only_the_sender_withdraws(
        batch, trader, org, counterparty, counterparty_trader, account):
    transfer = send_to_counterparty(batch, trader, org, counterparty, 400)
    with pytest.raises(TransferRefused, match="You sent this transfer; only the recipient, Lakeshore Power "
                                              "Cooperative, can accept it."):
        transfer_accept(transfer=transfer, user=trader, organization=org, account=account)
    with pytest.raises(TransferRefused, match="You sent this transfer; only the recipient, Lakeshore Power "
                                              "Cooperative, can reject it."):
        transfer_reject(transfer=transfer, user=trader, organization=org)
    with pytest.raises(TransferRefused, match="Only the sender, Prairie Wind Energy, can withdraw this transfer; "
                                              "you can accept or reject it."):
        transfer_withdraw(transfer=transfer, user=counterparty_trader, organization=counterparty)
    assert transfer.__class__.objects.get(pk=transfer.pk).status == "pending"


def test_export_is_pending_until_staff_confirm(batch, trader, org, tracking_system, staff):
    transfer = transfer_create(
        organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
        destination=Destination.export(tracking_system, "Cascade Utility", "W-1234"),
    )
    assert transfer.status == Transfer.Status.PENDING
    with pytest.raises(ServiceError, match="registry staff"):
        export_confirm(transfer=transfer, user=trader)
    export_confirm(transfer=transfer, user=staff, note="WREGIS confirmation 88123")
    moved = transfer.items.get().batch
    moved.refresh_from_db()
    assert moved.status == Status.EXPORTED
    assert ledger_breaches() == []


def test_rejected_export_returns(batch, trader, org, tracking_system, staff, account):
    transfer = transfer_create(
        organization=org, user=trader, lines=[TransferLine(batch.pk, 1000)],
        destination=Destination.export(tracking_system, "Cascade Utility"),
    )
    export_reject(transfer=transfer, user=staff, note="unknown account")
    batch.refresh_from_db()
    assert (batch.status, batch.account_id) == (Status.ACTIVE, account.pk)


def test_retirement_records_its_details_and_never_moves_again(
        batch, trader, org, retirement_account, second_account):
    transfer = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 100)],
                      account=retirement_account, compliance_period=2024)
    assert (transfer.kind, transfer.status, transfer.retirement.compliance_period) == ("retirement", "complete", 2024)
    retired = transfer.items.get().batch
    assert (retired.status, retired.account_id) == (Status.RETIRED, retirement_account.pk)
    with pytest.raises(TransferRefused, match="is retired"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(retired.pk, 100)],
                        destination=Destination.internal(second_account))
    assert ledger_breaches() == []


def test_several_batches_in_one_transfer(issue, trader, org, second_account):
    first, second = issue(500), issue(800)
    transfer = transfer_create(
        organization=org, user=trader,
        lines=[TransferLine(first.pk, 500), TransferLine(second.pk, 300)],
        destination=Destination.internal(second_account),
    )
    assert sorted(i.batch.quantity for i in transfer.items.all()) == [300, 500]
    assert ledger_breaches() == []


# --- refusals: a clear error and no ledger change ---------------------------------------------



@pytest.fixture
def refused(batch):
    """Assert the call is refused (a `refusal`) with the message and leaves the ledger exactly as it was."""
    def _refused(call, message, refusal=TransferRefused):
        before = ledger_state()
        with pytest.raises(refusal, match=message):
            call()
        assert ledger_state() == before
    return _refused


def test_refuses_another_organizations_batch(refused, batch, counterparty, counterparty_trader, counterparty_account):
    refused(lambda: transfer_create(
        organization=counterparty, user=counterparty_trader, lines=[TransferLine(batch.pk, 1)],
        destination=Destination.internal(counterparty_account)), "is not held by Lakeshore")


def test_refuses_a_batch_that_is_not_active(refused, batch, trader, org, counterparty, second_account):
    pending = send_to_counterparty(batch, trader, org, counterparty, 1000).items.get().batch
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(pending.pk, 1)],
                                    destination=Destination.internal(second_account)), "is pending", BatchChanged)


def test_refuses_a_superseded_batch(refused, batch, trader, org, second_account):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                    destination=Destination.internal(second_account))
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.internal(second_account)),
            "has changed since it was selected", BatchChanged)


@pytest.mark.parametrize("status", [Account.Status.CLOSED, Account.Status.FROZEN])
def test_refuses_a_closed_or_frozen_destination(status, refused, batch, trader, org):
    destination = AccountFactory(organization=org, status=status)
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.internal(destination)),
            f"not an open active account \\(it is a {status}")


def test_refuses_a_frozen_source_account(refused, batch, trader, org, account, second_account):
    Account.objects.filter(pk=account.pk).update(status=Account.Status.FROZEN)
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.internal(second_account)), "is frozen and cannot send")


def test_refuses_another_organizations_account_as_internal_destination(
        refused, batch, trader, org, counterparty_account):
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.internal(counterparty_account)),
            "is not one of Prairie Wind Energy's open active accounts")


def test_refuses_own_organization_as_external_destination(refused, batch, trader, org):
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.to_organization(org)), "your own organization")


def test_refuses_a_suspended_recipient(refused, batch, trader, org, counterparty):
    Organization.objects.filter(pk=counterparty.pk).update(status=Organization.Status.SUSPENDED)
    refused(lambda: send_to_counterparty(batch, trader, org, counterparty, 1), "is suspended")


@pytest.mark.parametrize("quantity,message", [
    (0, "whole number of at least 1"), (-5, "whole number of at least 1"),
    (1001, "more than batch .* holds \\(1,000\\)"), (2.5, "whole number"), (True, "whole number"),
])
def test_refuses_bad_quantities(quantity, message, refused, batch, trader, org, second_account):
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, quantity)],
                                    destination=Destination.internal(second_account)), message)


def test_refuses_a_viewer(refused, batch, viewer, org, second_account):
    before = ledger_state()
    with pytest.raises(ServiceError, match="not allowed to transfer"):
        transfer_create(organization=org, user=viewer, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.internal(second_account))
    assert ledger_state() == before


def test_a_viewer_cannot_start_a_draft(batch, viewer, org):
    from transfers.services import transfer_draft_start

    with pytest.raises(ServiceError, match="not allowed to transfer"):
        transfer_draft_start(membership=viewer.memberships.get(organization=org), batches=[(batch.pk, 1)])
    assert not Transfer.objects.exists()


def test_refuses_notes_over_500_characters(refused, batch, trader, org, second_account):
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.internal(second_account), notes="x" * 501),
            "limited to 500")


def test_accept_refuses_a_frozen_account(batch, trader, org, counterparty, counterparty_trader):
    transfer = send_to_counterparty(batch, trader, org, counterparty, 10)
    frozen = AccountFactory(organization=counterparty, status=Account.Status.FROZEN)
    before = ledger_state()
    with pytest.raises(TransferRefused, match="not an open active account"):
        transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty, account=frozen)
    assert ledger_state() == before


def test_refuses_an_internal_transfer_into_the_account_already_holding_it(refused, batch, trader, org, account):
    refused(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                    destination=Destination.internal(account)), "is already in account",
            AlreadyInAccount)


def test_a_draft_is_confirmed_once_and_then_neither_confirmed_nor_changed_again(refused, batch, trader, org,
                                                                              second_account):
    draft = Transfer.objects.create(organization=org, created_by=trader, draft={"lines": [[batch.pk, 300]], "step": 4})

    def confirm():
        return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
                               destination=Destination.internal(second_account),
                               draft=Transfer.objects.get(pk=draft.pk))

    assert confirm().status == Transfer.Status.COMPLETE
    refused(confirm, "This transfer has already been submitted.", DraftAlreadySubmitted)
    stale = Transfer(pk=draft.pk, draft={"lines": [[batch.pk, 300]], "step": 4})  # as a step read it before
    with pytest.raises(DraftAlreadySubmitted):
        transfer_draft_save(draft=stale, lines=[[batch.pk, 1]])
    assert Transfer.objects.get(pk=draft.pk).draft["lines"] == [[batch.pk, 300]]


def test_a_refusal_in_a_later_chunk_undoes_the_earlier_chunks(issue, trader, org, second_account, monkeypatch,
                                                                counterparty, counterparty_account):
    from transfers.services import lifecycle
    monkeypatch.setattr(lifecycle, "TRANSFER_CHUNK", 2)
    batches = [issue(10) for _ in range(5)]
    before = ledger_state()
    lines = [TransferLine(b.pk, 5) for b in batches[:4]] + [TransferLine(batches[4].pk, 11)]
    with pytest.raises(TransferRefused, match="more than batch"):
        transfer_create(organization=org, user=trader, lines=lines, destination=Destination.internal(second_account))
    assert ledger_state() == before
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(b.pk, 5) for b in batches],
                               destination=Destination.internal(second_account))
    assert transfer.items.count() == 5
    initiated = transfer.events.filter(kind=LedgerEvent.Kind.TRANSFER_INITIATED)
    assert initiated.count() == 3 and sum(len(e.after["batches"]) for e in initiated) == 5
    assert ledger_breaches() == []


@pytest.mark.parametrize(("first_move", "second_move", "cuts"), [
    (1, 1, [[(1, 1), (2, 1000)], [(2, 2), (3, 1000)]]),
    (998, 1, [[(1, 998), (999, 1000)], [(999, 999), (1000, 1000)]]),
    (500, 499, [[(1, 500), (501, 1000)], [(501, 999), (1000, 1000)]]),
])
def test_successive_partial_moves_take_the_lowest_serials_and_leave_the_rest(
        batch, trader, org, second_account, first_move, second_move, cuts):
    source, parent = batch, batch
    for quantity, expected in zip((first_move, second_move), cuts, strict=True):
        transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(source.pk, quantity)],
                                   destination=Destination.internal(second_account))
        children = list(CertificateBatch.objects.filter(parent=source).order_by("serial_start"))
        assert [(child.serial_start, child.serial_end) for child in children] == expected
        assert [(child.account_id, child.status) for child in children] == [
            (second_account.pk, Status.ACTIVE), (source.account_id, Status.ACTIVE)]
        source = CertificateBatch.objects.get(pk=transfer.remainders[source.pk])
    assert sum(b.quantity for b in CertificateBatch.objects.filter(certificate=parent.certificate,
                                                                   status=Status.ACTIVE)) == 1000
    assert ledger_breaches() == []


def test_a_transfer_is_a_transaction_of_its_own_and_refuses_to_run_inside_another(batch, trader, org, second_account):
    from django.db import transaction

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.internal(second_account))
    assert ledger_state()[2] == 0


@pytest.mark.parametrize("quantity", [1000, 400])
def test_an_item_records_the_account_its_batch_came_from_whole_or_part(batch, trader, org, account, second_account,
                                                                       quantity):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, quantity)],
                               destination=Destination.internal(second_account))
    item = transfer.items.get()
    assert (item.source_account_id, item.batch.account_id) == (account.pk, second_account.pk)
