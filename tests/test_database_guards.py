"""The database itself refuses what would break the ledger, whatever the code does."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from certificates.models import Certificate, CertificateBatch
from ledger.models import LedgerEvent


def test_ledger_events_refuse_update(batch):
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ISSUANCE, batch=batch)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEvent.objects.filter(pk=event.pk).update(note="rewritten")


def test_ledger_events_refuse_delete_even_in_raw_sql(batch):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_ledgerevent")


def test_overlapping_live_batch_is_refused(batch):
    with pytest.raises(IntegrityError, match="batch_live_ranges_do_not_overlap"), transaction.atomic():
        CertificateBatch.objects.create(certificate=batch.certificate, account=batch.account,
                                        serial_start=900, serial_end=1100, quantity=201)


def test_quantity_must_match_the_range(batch):
    with pytest.raises(IntegrityError, match="batch_quantity_matches_range"), transaction.atomic():
        CertificateBatch.objects.create(certificate=batch.certificate, account=batch.account,
                                        serial_start=2000, serial_end=2009, quantity=11)


def test_range_must_be_ordered(batch):
    with pytest.raises(IntegrityError, match="batch_(range_ordered|quantity_positive)"), transaction.atomic():
        CertificateBatch.objects.create(certificate=batch.certificate, account=batch.account,
                                        serial_start=2000, serial_end=1999, quantity=0)


def test_batches_are_never_deleted_and_ranges_never_rewritten(batch):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM certificates_certificatebatch WHERE id = %s", [batch.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CertificateBatch.objects.filter(pk=batch.pk).update(serial_end=999, quantity=999)


def test_issuances_are_immutable(batch):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Certificate.objects.filter(pk=batch.certificate_id).update(quantity=5000)


@pytest.mark.parametrize("change", [{"status": "active"}, {"status": "superseded"}, {"account_id": None},
                                    {"status": "pending"}])
def test_a_retired_batch_refuses_any_change(batch, trader, org, retirement_account, account, change):
    from transfers.services import TransferLine

    from .conftest import retire
    retired = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 100)],
                     account=retirement_account).items.get().batch
    change = {name: account.pk if value is None else value for name, value in change.items()}
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CertificateBatch.objects.filter(pk=retired.pk).update(**change)
    retired.refresh_from_db()
    assert (retired.status, retired.account_id) == ("retired", retirement_account.pk)
