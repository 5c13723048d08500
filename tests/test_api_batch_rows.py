"""The API's batch rows, read as values with the period's two bounds and its texts worded once per period
(certificates.period_texts): byte for byte what the serializer wrote when it read each row's period as a
ProductionPeriod, for a monthly, an hourly, an imported and a retired batch."""

import datetime
import decimal

import pytest
from rest_framework.renderers import JSONRenderer

from certificates.models import CertificateBatch
from certificates.period_texts import period_texts
from certificates.periods import ProductionPeriod
from certificates.serials import format_serial
from imports.services import import_record
from imports.values import ImportDetails
from transfers.services import TransferLine, transfer_accept
from utilities.display import iso_utc

from .conftest import retire
from .factories import GeneratorFactory

BATCHES = "/api/v1/batches/"


def as_written_before(batch: CertificateBatch) -> dict:
    """A batch as the serializer wrote it from the row's period (ProductionPeriod.api_text) before."""
    certificate = batch.certificate
    origin = certificate.imported_from
    return {
        "id": batch.pk, "serial_number": format_serial(certificate.serial_base, batch.serial_start, batch.serial_end),
        "serial_start": batch.serial_start, "serial_end": batch.serial_end, "quantity": batch.quantity,
        "status": batch.status, "account": batch.account.public_id, "account_name": batch.account.name,
        "generator": certificate.generator.code, "generator_name": certificate.generator.name,
        "fuel": certificate.fuel_type, "state": certificate.state, "vintage": certificate.period.api_text,
        "eligibilities": certificate.eligibilities, "issued_at": iso_utc(certificate.issued_at),
        "origin": {"tracking_system": origin.code, "tracking_system_name": origin.name,
                   "original_serial": certificate.original_serial} if origin else None,
    }


def json_bytes(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def hourly(issue, org, account):
    plant = GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=decimal.Decimal(50),
                             account=account, fuel_type="solar")
    start = datetime.datetime(2026, 3, 8, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=7)  # after the change
    return issue(40_000_000, period=ProductionPeriod.interval(start, start + datetime.timedelta(hours=1)),
                 generator=plant)


@pytest.fixture
def imported(staff, tracking_system, counterparty, counterparty_trader, counterparty_account):
    record = import_record(user=staff, details=ImportDetails(
        tracking_system=tracking_system, original_serial="MIRECS-123-MI-01-2024-77-1 to 100", generator_id="123",
        generator_name="Thumb Wind", fuel="wind", technology="onshore_wind", state="MI",
        capacity_mw=decimal.Decimal("99.5"), period=ProductionPeriod.month(2024, 1), quantity=100,
        recipient=counterparty, eligibilities=["MI RPS", "Green-e"], notes=""))
    transfer_accept(transfer=record.transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    return record.certificate.batches.get(status=CertificateBatch.Status.ACTIVE)


def test_the_list_is_the_rows_the_serializer_wrote_before(api_as, org, viewer, holdings, hourly):
    client = api_as(viewer, org)
    listed = sorted([*holdings.values(), hourly], key=lambda batch: batch.pk)
    response = client.get(BATCHES)
    assert response.content == json_bytes({"next": None, "previous": None,
                                           "results": [as_written_before(batch) for batch in listed]})
    assert {row["vintage"] for row in response.json()["results"]} == {
        "2020-01", "2020-06", "2021-03", "2026-03-08T03:00:00-05:00/2026-03-08T04:00:00-05:00"}


def test_one_batch_is_what_the_serializer_wrote_before(api_as, org, viewer, trader, holdings, hourly,
                                                       retirement_account, imported, counterparty,
                                                       counterparty_trader):
    retire(organization=org, user=trader, account=retirement_account, lines=[TransferLine(holdings["solar"].pk, 500)])
    client = api_as(viewer, org)
    for batch in (holdings["wind"], hourly, CertificateBatch.objects.get(pk=holdings["solar"].pk)):
        assert client.get(f"{BATCHES}{batch.pk}/").content == json_bytes(as_written_before(batch) | {"replaced_by": []})
    assert CertificateBatch.objects.get(pk=holdings["solar"].pk).status == "retired"
    recipient = api_as(counterparty_trader, counterparty)
    assert recipient.get(f"{BATCHES}{imported.pk}/").content == json_bytes(
        as_written_before(imported) | {"replaced_by": []})
    assert recipient.get(BATCHES).json()["results"][0]["origin"]["original_serial"] == \
        "MIRECS-123-MI-01-2024-77-1 to 100"


def test_a_periods_texts_are_of_the_registrys_zone_at_the_time(settings):
    january = ProductionPeriod.month(2024, 1)  # in America/Chicago, the tests' zone
    assert period_texts(january.start, january.end) == (january.api_text, january.data_text) == ("2024-01", "01/2024")
    settings.TIME_ZONE = "Europe/Berlin"  # the same moments are no longer a month of the registry's zone
    assert period_texts(january.start, january.end).api == "2024-01-01T07:00:00+01:00/2024-02-01T07:00:00+01:00"
