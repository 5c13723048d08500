"""Reads of hourly matching, each starting from the organization's scope: its sites, their readings
and statements, and the held hourly batches a match may retire."""

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, F, Max, Min, Q, Sum

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from issuance.intervals import clock_hour
from registry.models import Organization

from .models import ConsumptionReading, ConsumptionSite, MatchingStatement


def sites_for(organization: Organization):
    """The organization's consumption sites, each with its readings' count, span and totals."""
    return (ConsumptionSite.objects.filter(organization=organization)
            .annotate(reading_count=Count("readings"), first_start=Min("readings__period__startswith"),
                      last_end=Max("readings__period__endswith"), consumed_wh=Sum("readings__wh"),
                      matched_wh=Sum("readings__matched_wh"))
            .order_by("code"))


def site_of(organization: Organization, code: str) -> ConsumptionSite | None:
    """One of the organization's sites by its ID (any case), or None: another organization's is none."""
    return sites_for(organization).filter(code__iexact=code).first()


def statements_for(organization: Organization):
    return (MatchingStatement.objects.filter(site__organization=organization)
            .select_related("retirement", "site"))


def statement_of(organization: Organization, reference: str) -> MatchingStatement | None:
    return statements_for(organization).filter(retirement__reference=reference.upper()).first()


def statement_by_reference(reference: str) -> MatchingStatement | None:
    """A public statement, for anyone who has its reference (the retirement's)."""
    return (MatchingStatement.objects.select_related("retirement", "site")
            .filter(retirement__reference=reference.upper()).first())


class Candidate(NamedTuple):
    """A held hourly batch a match may retire: its id, certificate, interval and serials."""

    batch_id: int
    certificate_id: int
    start: datetime.datetime
    end: datetime.datetime
    serial_base: str
    serial_start: int
    quantity: int
    generator_code: str


def matching_candidates(*, organization: Organization, site: ConsumptionSite, span: ProductionPeriod,
                        now: datetime.datetime) -> list[Candidate]:
    """The active batches the organization holds in its open active accounts of interval certificates
    (those with an expiry) produced within `span` and not expired at `now`, of generators of the site's
    grid area or of none (any generator when the site names no area), in the order a match takes
    them: by interval, then certificate, then lowest serial first. One query, read as plain values:
    bench/matching.py reads 100,000 of them."""
    batches = CertificateBatch.objects.filter(
        account__organization=organization, account__type=Account.Type.ACTIVE, account__status=Account.Status.OPEN,
        status=CertificateBatch.Status.ACTIVE, certificate__period__contained_by=span.as_range(),
        certificate__expires_at__gt=now, certificate__voided_at__isnull=True)
    if site.grid_area:
        batches = batches.filter(Q(certificate__generator__grid_area="")
                                 | Q(certificate__generator__grid_area=site.grid_area))
    rows = batches.order_by("certificate__period", "certificate_id", "serial_start").values_list(
        "pk", "certificate_id", "certificate__period__startswith", "certificate__period__endswith",
        "certificate__serial_base", "serial_start", "quantity", "certificate__generator__code")
    return [Candidate(*row) for row in rows]


@dataclass(frozen=True)
class ConsumptionHour:
    """An hour of the registry's clock (issuance.intervals.clock_hour) and all the site's readings in it,
    in time order: what a match counts as the hour's consumption, whatever the meter's interval."""

    period: ProductionPeriod
    readings: list[ConsumptionReading]

    @property
    def consumption_wh(self) -> int:
        return sum(reading.wh for reading in self.readings)

    @property
    def matched_wh(self) -> int:
        return sum(reading.matched_wh for reading in self.readings)

    @property
    def open_wh(self) -> int:
        return self.consumption_wh - self.matched_wh


def hours_open(site: ConsumptionSite, span: ProductionPeriod | None) -> list[ConsumptionHour]:
    """The hours of the site's consumption (within `span`, if one) with some left to match, in time
    order, each with all its readings (those matched already too: the hour's consumption is theirs)."""
    unmatched = ConsumptionReading.objects.filter(site=site, matched_wh__lt=F("wh"))
    if span is not None:
        unmatched = unmatched.filter(period__contained_by=span.as_range())
    starts = sorted({clock_hour(period.start).start for period in unmatched.values_list("period", flat=True)})
    if not starts:
        return []
    whole = ProductionPeriod(starts[0], clock_hour(starts[-1]).end)
    by_hour: dict[datetime.datetime, list[ConsumptionReading]] = {start: [] for start in starts}
    for reading in ConsumptionReading.objects.filter(site=site, period__contained_by=whole.as_range()).order_by(
            "period"):
        hour = by_hour.get(clock_hour(reading.period.start).start)
        if hour is not None:
            hour.append(reading)
    return [ConsumptionHour(clock_hour(start), readings) for start, readings in by_hour.items()]

