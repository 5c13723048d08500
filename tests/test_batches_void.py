"""batches_void: registry staff void certificates an organization holds (a correction's debit), whole
batches or their lowest serials, final and out of every balance, with the ledger's record and reason."""

import pytest
from django.db import connection

from accounts.selectors import accounts_with_balances
from certificates.models import CertificateBatch
from certificates.services import batches_void
from events.models import Event
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError

from .conftest import ledger_state, send

REASON = "Prior period adjustment: 400 MWh less in 01/2010."
Status = CertificateBatch.Status


def active_held(account) -> int:
    return accounts_with_balances(account.organization).get(pk=account.pk).active_quantity


def test_a_partial_void_takes_the_lowest_serials_and_keeps_the_rest_active(batch, staff, org, account):
    voided = batches_void(user=staff, organization=org, lines=[(batch.pk, 400)], reason=REASON)

    batch.refresh_from_db()
    (part,) = voided.batches
    staying = CertificateBatch.objects.get(parent=batch, status=Status.ACTIVE)
    assert batch.status == Status.SUPERSEDED and voided.quantity == 400
    assert (part.serial_start, part.serial_end, part.status, part.account_id) == (1, 400, "voided", account.pk)
    assert (staying.serial_start, staying.serial_end) == (401, 1000)
    assert active_held(account) == 600
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.BATCH_VOIDED)
    assert (event.actor, event.note, event.batch_id, event.before["status"], event.after["status"]) == (
        staff, REASON, part.pk, "active", "voided")
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.SPLIT, batch=batch).exists()
    domain = Event.objects.get(kind=Event.Kind.CERTIFICATES_VOIDED)
    assert domain.organization_id == org.pk
    assert domain.data == {"quantity": 400, "batch_ids": [part.pk], "reason": REASON}
    assert ledger_breaches() == []


def test_a_whole_batch_is_voided_where_it_is(batch, staff, org):
    batches_void(user=staff, organization=org, lines=[(batch.pk, 1000)], reason=REASON)
    batch.refresh_from_db()
    assert batch.status == Status.VOIDED and ledger_breaches() == []
    # final: nothing moves it again
    with pytest.raises(ServiceError, match="is voided; only active certificates"):
        batches_void(user=staff, organization=org, lines=[(batch.pk, 1000)], reason=REASON)


def test_a_void_is_refused_naming_each_bad_line_and_nothing_changes(
        issue, staff, trader, org, counterparty, foreign_batch):
    held, moving = issue(1000), issue(500)
    send(moving, trader, org, counterparty, quantity=500)  # pending
    before = ledger_state()

    with pytest.raises(ServiceError) as refusal:
        batches_void(user=staff, organization=org, lines=[(held.pk, 1001), (moving.pk, 10), (foreign_batch.pk, 1)],
                     reason=REASON)
    message = str(refusal.value)
    assert "must be a whole number from 1 to 1,000" in message
    assert "is pending; only active certificates can be voided" in message
    assert f"{foreign_batch.serial_number} is not held by {org.name}" in message
    with pytest.raises(ServiceError, match="Only registry staff"):
        batches_void(user=trader, organization=org, lines=[(held.pk, 1)], reason=REASON)
    with pytest.raises(ServiceError, match="Give the reason"):
        batches_void(user=staff, organization=org, lines=[(held.pk, 1)], reason=" ")
    assert ledger_state() == before


def test_verify_ledger_finds_a_batch_voided_behind_the_services_back(batch):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE certificates_certificatebatch SET status = 'voided' WHERE id = %s", [batch.pk])

    assert ledger_breaches() == [f"every voided batch must have its batch_voided event: batch {batch.pk} is voided "
                                 "without a batch_voided event"]
