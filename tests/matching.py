"""Helpers of the hourly matching tests: hours, hourly certificates held, consumption recorded."""

import datetime

from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from matching.models import ConsumptionReading, ConsumptionSite

FIRST_HOUR = datetime.datetime(2026, 11, 2, 6, tzinfo=datetime.UTC)  # midnight in Chicago, a Monday


def hour(n: int) -> ProductionPeriod:
    """The n-th hour after FIRST_HOUR."""
    start = FIRST_HOUR + datetime.timedelta(hours=n)
    return ProductionPeriod(start, start + datetime.timedelta(hours=1))


def quarter(n: int, q: int) -> ProductionPeriod:
    """The q-th quarter hour (0 to 3) of hour n."""
    start = hour(n).start + datetime.timedelta(minutes=15 * q)
    return ProductionPeriod(start, start + datetime.timedelta(minutes=15))


def hourly_batch(*, staff, generator, account, n: int, wh: int, period: ProductionPeriod | None = None
                 ) -> CertificateBatch:
    """A certificate of hour n (or of `period`), `wh` Wh, issued into `account`: its one batch."""
    certificate = certificate_issue(user=staff, generator=generator, period=period or hour(n), quantity=wh,
                                    account=account)
    return CertificateBatch.objects.get(certificate=certificate)


def consumption(site: ConsumptionSite, user, wh_by_hour: dict[int, int]) -> list[ConsumptionReading]:
    return ConsumptionReading.objects.bulk_create([
        ConsumptionReading(site=site, period=hour(n), wh=wh, submitted_by=user) for n, wh in wh_by_hour.items()])


def consumption_csv(code: str, wh_by_hour: dict[int, int], zone=datetime.UTC) -> str:
    return "Site ID,Interval start,Interval end,Wh\r\n" + "".join(
        f"{code},{hour(n).start.astimezone(zone).isoformat()},{hour(n).end.astimezone(zone).isoformat()},{wh}\r\n"
        for n, wh in wh_by_hour.items())


def quarter_consumption(site: ConsumptionSite, user, wh_by_hour: dict[int, list[int]]) -> list[ConsumptionReading]:
    """A meter read every 15 minutes: hour n's four quarters, their Wh in order."""
    return ConsumptionReading.objects.bulk_create([
        ConsumptionReading(site=site, period=quarter(n, q), wh=wh, submitted_by=user)
        for n, quarters in wh_by_hour.items() for q, wh in enumerate(quarters)])
