"""ledger_write: what it stores is what the events say, for one row or many."""

import pytest
from django.db import transaction
from django.utils import timezone

from events.models import Event
from events.services import event_new
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from transfers.models import Transfer


@pytest.mark.parametrize("count", [1, 2, 21, 2500])
def test_events_and_rows_are_stored_as_given(batch, count):
    organization = batch.account.organization
    user = batch.certificate.issued_by
    transfer = Transfer(pk=None, kind=Transfer.Kind.INTERNAL, status=Transfer.Status.COMPLETE,
                        organization=organization, created_by=user, destination_account=batch.account,
                        notes='=HYPERLINK("x") \\ "quoted" ünïcode', submitted_at=timezone.now())
    transfer.save()
    events = [ledger_event(kind=LedgerEvent.Kind.SPLIT, actor=user if index % 2 else None,
                           organization=organization, batch=batch, transfer=transfer,
                           before={"index": index, "nested": [1, None, "two"]}, after=None if index % 3 else [index],
                           note=f"note {index} 'quoted' \\ {{braces}}")
              for index in range(count)]
    owed = [event_new(kind=Event.Kind.TRANSFER_SUBMITTED, subject_id=transfer.pk)]
    started = timezone.now()
    with transaction.atomic():
        ledger_write(events, with_rows=[owed])

    stored = list(LedgerEvent.objects.filter(transfer=transfer).order_by("pk"))
    assert len(stored) == count
    for index, event in enumerate(stored):
        assert (event.kind, event.actor_id, event.organization_id, event.batch_id, event.certificate_id) == (
            LedgerEvent.Kind.SPLIT, user.pk if index % 2 else None, organization.pk, batch.pk, None)
        assert event.before == {"index": index, "nested": [1, None, "two"]}
        assert event.after == (None if index % 3 else [index])
        assert event.note == f"note {index} 'quoted' \\ {{braces}}"
        assert event.occurred_at >= started.replace(microsecond=0)  # left to the database's now()
    assert Event.objects.filter(subject_id=transfer.pk, kind=Event.Kind.TRANSFER_SUBMITTED).count() == 1


def test_a_row_with_its_own_primary_key_is_written_and_marked_saved(batch):
    transfer = Transfer(pk=987_654, kind=Transfer.Kind.INTERNAL, status=Transfer.Status.COMPLETE,
                        organization=batch.account.organization, created_by=batch.certificate.issued_by,
                        destination_account=batch.account, submitted_at=timezone.now())
    with transaction.atomic():
        ledger_write([ledger_event(kind=LedgerEvent.Kind.TRANSFER_INITIATED, transfer=transfer)],
                     with_rows=[[transfer]])
    assert not transfer._state.adding
    assert Transfer.objects.get(pk=987_654).destination_account_id == batch.account_id
    assert LedgerEvent.objects.get(transfer_id=987_654).kind == LedgerEvent.Kind.TRANSFER_INITIATED


@pytest.mark.parametrize(("count", "set_on"), [(2, 0), (2, 1), (21, 0), (21, 5)])
def test_an_occurred_at_set_on_some_events_only_is_refused(batch, count, set_on):
    events = [ledger_event(kind=LedgerEvent.Kind.SPLIT, batch=batch) for _ in range(count)]
    events[set_on].occurred_at = timezone.now()
    before = LedgerEvent.objects.count()
    with pytest.raises(ValueError, match="occurred_at"), transaction.atomic():
        ledger_write(events)
    assert LedgerEvent.objects.count() == before


def test_a_row_takes_the_id_of_an_object_saved_after_it_was_assigned_and_refuses_an_unsaved_one(batch):
    organization, user = batch.account.organization, batch.certificate.issued_by
    transfer = Transfer(kind=Transfer.Kind.INTERNAL, status=Transfer.Status.COMPLETE, organization=organization,
                        created_by=user, destination_account=batch.account, submitted_at=timezone.now())
    # (a row of another model with a foreign key to the transfer: its ledger event, assigned before the
    # transfer has an id)
    owed = LedgerEvent(kind=LedgerEvent.Kind.SPLIT, batch=batch, transfer=transfer)
    with pytest.raises(ValueError, match="unsaved related object 'transfer'"), transaction.atomic():
        ledger_write([], with_rows=[[owed]])
    assert not LedgerEvent.objects.filter(transfer__isnull=False).exists()

    transfer.save()
    with transaction.atomic():
        ledger_write([], with_rows=[[owed]])
    assert owed.transfer_id == transfer.pk
    assert LedgerEvent.objects.get(transfer__isnull=False).transfer_id == transfer.pk
