"""batches_take, the one move of batch quantities every transfer makes (a transfer, a retirement, a
mass upload's, a standing instruction's): a partial take supersedes the batch by key and hands back
its two children and its split ledger event, for the caller to write with its own rows."""

import pytest
from django.db import transaction

from certificates.models import CertificateBatch
from certificates.services import batches_lock, batches_take
from ledger.models import LedgerEvent
from ledger.services import ledger_write
from registry.services import ServiceConflict

from .conftest import ledger_state

Status = CertificateBatch.Status
pytestmark = pytest.mark.django_db


def test_a_partial_take_supersedes_the_batch_and_returns_its_children_and_split_event(
        batch, trader, org, second_account):
    with transaction.atomic():
        parent = batches_lock([batch.pk])[batch.pk]
        taken = batches_take(takes=[(parent, 300)], account_id=second_account.pk, status=Status.ACTIVE,
                             actor=trader, organization=org)
        ledger_write(taken.events, with_rows=[taken.children])

    moved, staying = taken.children
    assert taken.moved == [moved] and parent.remainder == staying
    rows = {row.pk: row for row in CertificateBatch.objects.filter(pk__in=[batch.pk, moved.pk, staying.pk])}
    assert rows[batch.pk].status == Status.SUPERSEDED
    assert (rows[moved.pk].account_id, rows[moved.pk].serial_start, rows[moved.pk].serial_end,
            rows[moved.pk].parent_id) == (second_account.pk, 1, 300, batch.pk)
    assert (rows[staying.pk].account_id, rows[staying.pk].serial_start, rows[staying.pk].serial_end,
            rows[staying.pk].status) == (batch.account_id, 301, 1000, Status.ACTIVE)
    split = LedgerEvent.objects.get(kind=LedgerEvent.Kind.SPLIT, batch=batch)
    assert split.before["status"] == Status.ACTIVE and split.before["serial_end"] == 1000
    assert [child["batch"] for child in split.after["children"]] == [moved.pk, staying.pk]


def test_a_batch_no_longer_active_in_the_database_is_a_conflict_and_nothing_is_written(
        batch, trader, org, second_account):
    stale = batches_lock([batch.pk])[batch.pk]  # read active; then frozen by another change
    CertificateBatch.objects.filter(pk=batch.pk).update(status=Status.PENDING)
    before = ledger_state()

    with pytest.raises(ServiceConflict, match="changed meanwhile; nothing was moved"):
        with transaction.atomic():
            batches_take(takes=[(stale, 300)], account_id=second_account.pk, status=Status.ACTIVE,
                         actor=trader, organization=org)

    assert ledger_state() == before
    assert CertificateBatch.objects.get(pk=batch.pk).status == Status.PENDING
