"""The database itself refuses what would break the ledger, whatever the code does."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from certificates.models import Certificate, CertificateBatch
from certificates.periods import ProductionPeriod
from ledger.models import LedgerEvent
from registry.errors import ServiceError

from .factories import GeneratorFactory


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


def test_live_batches_may_touch_but_never_share_a_serial(batch, issue):
    """The exclusion constraint's box (certificates.models.KeyedSpan) is exactly (certificate WITH =,
    [serial_start, serial_end] WITH &&): ends that touch pass, one serial shared is refused, another
    certificate's same serials and a superseded batch's pass."""
    def create(certificate, start, end, status="active"):
        with transaction.atomic():
            CertificateBatch.objects.create(certificate=certificate, account=batch.account, status=status,
                                            serial_start=start, serial_end=end, quantity=end - start + 1)

    create(batch.certificate, 1001, 1001)
    with pytest.raises(IntegrityError, match="batch_live_ranges_do_not_overlap"):
        create(batch.certificate, 1000, 1000)
    with pytest.raises(IntegrityError, match="batch_live_ranges_do_not_overlap"):
        create(batch.certificate, 1001, 5000)
    create(issue(10).certificate, 11, 1001)  # its own batch holds 1 to 10
    create(batch.certificate, 1, 1000, status="superseded")


def test_serials_stay_exact_up_to_two_to_the_53rd(batch):
    """A box holds its numbers as float8, exact up to 2**53: serials there still touch without sharing one,
    and a serial past it is refused."""
    top = 2**53

    def create(start, end):
        with transaction.atomic():
            CertificateBatch.objects.create(certificate=batch.certificate, account=batch.account,
                                            serial_start=start, serial_end=end, quantity=end - start + 1)

    create(top - 1, top - 1)
    create(top, top)
    with pytest.raises(IntegrityError, match="batch_live_ranges_do_not_overlap"):
        create(top, top)
    with pytest.raises(IntegrityError, match="batch_serial_end_exact"):
        create(top + 1, top + 1)


def test_a_generators_periods_may_touch_but_never_overlap(generator, issue):
    """The exclusion constraint's box is exactly (generator WITH =, period WITH &&) to the microsecond:
    back-to-back hours pass, an hour one microsecond into the next is refused, and so is an hour inside an
    issued month; another generator's same hour passes."""
    hour = datetime.datetime(2026, 11, 3, 14, tzinfo=datetime.UTC)

    def write(start, end, on=generator):
        issue(5, period=ProductionPeriod(start, end), generator=on)

    write(hour, hour + datetime.timedelta(hours=1))
    write(hour + datetime.timedelta(hours=1), hour + datetime.timedelta(hours=2))
    with pytest.raises(ServiceError, match="already has certificates"):
        write(hour + datetime.timedelta(hours=2, microseconds=-1), hour + datetime.timedelta(hours=3))
    write(hour, hour + datetime.timedelta(hours=1), on=GeneratorFactory(organization=generator.organization))
    issue(10, period=ProductionPeriod.month(2026, 10))
    with pytest.raises(ServiceError, match="already has certificates"):
        write(datetime.datetime(2026, 10, 31, 12, tzinfo=datetime.UTC),
              datetime.datetime(2026, 10, 31, 13, tzinfo=datetime.UTC))


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
