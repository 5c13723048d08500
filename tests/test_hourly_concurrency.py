"""Granular certificates under real parallel transactions: two uploads of one interval, and beat's
expiry racing a transfer of the batch it expires (issue 33)."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.services import certificates_expire
from issuance.models import GenerationReport, GenerationUpload, IntervalReading
from issuance.services import generation_upload_create, generation_upload_process, issuance_run
from ledger.verification import ledger_breaches
from registry.services import ServiceError
from transfers.services import Destination, TransferLine, transfer_create

from .factories import GeneratorFactory
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)
HOUR = ProductionPeriod(datetime.datetime(2020, 6, 1, 15, tzinfo=datetime.UTC),
                        datetime.datetime(2020, 6, 1, 16, tzinfo=datetime.UTC))
FILE = f"Generator ID,Interval start,Interval end,Wh\r\nH100,{HOUR.start.isoformat()},{HOUR.end.isoformat()},1000\r\n"


@pytest.fixture
def granular(org, account):
    return GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=Decimal(50), account=account)


def each_once(*calls):
    """A callable for at_once that runs each of `calls` in one of the threads."""
    remaining = iter(calls)
    return lambda: next(remaining)()


def test_two_uploads_of_one_interval_at_once_record_it_once(granular, org, trader, mass_media, monkeypatch):
    monkeypatch.setattr("issuance.services._queue_after_commit", lambda upload_id: None)  # processed below
    uploads = [generation_upload_create(organization=org, user=trader,
                                        upload=SimpleUploadedFile(f"intervals-{n}.csv", FILE.encode())) for n in (1, 2)]
    at_once(each_once(*(lambda upload=upload: generation_upload_process(upload_id=upload.pk) for upload in uploads)))

    statuses = sorted(GenerationUpload.objects.filter(pk__in=[u.pk for u in uploads]).values_list("status", flat=True))
    assert statuses == ["completed", "failed"]
    assert IntervalReading.objects.filter(generator=granular).count() == 1
    assert GenerationReport.objects.live().filter(generator=granular).count() == 1


def test_expiry_and_a_transfer_of_the_batch_at_once_leave_the_ledger_sound(granular, org, trader, staff,
                                                                            second_account):
    IntervalReading.objects.create(generator=granular, period=HOUR, wh=1000, submitted_by=trader)
    GenerationReport.objects.create(generator=granular, month=datetime.date(2020, 6, 1), mwh=Decimal("0.001"),
                                    submitted_by=trader)
    issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=granular))
    batch = CertificateBatch.objects.get(certificate__generator=granular)

    def transfer():
        try:
            return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 400)],
                                   destination=Destination.internal(second_account))
        except ServiceError as refusal:  # expired first: refused, nothing moved
            return refusal

    at_once(each_once(certificates_expire, transfer))
    certificates_expire()  # what moved before the expiry expires now, in its new account

    live = CertificateBatch.objects.filter(certificate__generator=granular).live()
    assert set(live.values_list("status", flat=True)) == {"expired"}
    assert sum(live.values_list("quantity", flat=True)) == 1000
    assert ledger_breaches() == []


def test_an_issuance_run_spreads_its_transactions_over_its_connections(org, account, staff, settings, monkeypatch):
    """Outside a transaction, the run's transactions (here one generator each) go on ISSUANCE_CONNECTIONS
    connections at once. Two such runs of the same months at once: each month is issued by one of them and
    skipped by the other, and the ledger is sound."""
    settings.ISSUANCE_CONNECTIONS = 2
    monkeypatch.setattr("issuance.services.GRANULAR_GENERATORS_PER_TRANSACTION", 1)
    generators = [GeneratorFactory(organization=org, code=f"H1{n:02d}", granular=True, capacity_mw=Decimal(50),
                                   account=account) for n in range(6)]
    hours = ProductionPeriod(HOUR.start, HOUR.start + datetime.timedelta(hours=5)).hours
    for generator in generators:
        IntervalReading.objects.bulk_create([IntervalReading(generator=generator, period=hour, wh=1000 + n,
                                                             submitted_by=staff) for n, hour in enumerate(hours)])
        GenerationReport.objects.create(generator=generator, month=datetime.date(2020, 6, 1), mwh=Decimal("0.005"),
                                        submitted_by=staff)
    backends = set()
    real = issuance_run.__globals__["_issue_generators"]

    def noted(**kwargs):
        from django.db import connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.add(cursor.fetchone()[0])
        return real(**kwargs)

    monkeypatch.setattr("issuance.services._issue_generators", noted)
    runs = []
    at_once(lambda: runs.append(issuance_run(user=staff, reports=GenerationReport.objects.all())))

    assert sum(run.intervals for run in runs) == 30  # each month by one of the runs: the other skips it
    assert sum(len(run.granular) for run in runs) == sum(len(run.skipped) for run in runs) == 6
    assert len(backends) >= 3  # two runs, each over two connections of its own
    assert CertificateBatch.objects.filter(certificate__generator__in=generators).count() == 30
    assert set(GenerationReport.objects.values_list("status", flat=True)) == {"issued"}
    assert ledger_breaches() == []
