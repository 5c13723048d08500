import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from certificates.models import Certificate, EligibilityGap, Generator, GeneratorEligibility
from certificates.periods import ProductionPeriod
from certificates.selectors import generator_eligibilities
from certificates.units import Unit
from registry.models import Organization

from .arithmetic import issued_quantity
from .models import Correction, GenerationReport, GenerationReporter, GenerationUpload, IntervalReading, Issuance


def generation_uploads_of(organization: Organization) -> QuerySet[GenerationUpload]:
    return (GenerationUpload.objects.filter(organization=organization).select_related("uploaded_by")
            .annotate(made_count=Count("reports")))


def generation_upload_for(organization: Organization, pk: int) -> GenerationUpload | None:
    return GenerationUpload.objects.filter(organization=organization, pk=pk).select_related("uploaded_by").first()


def generation_reports_for(organization: Organization) -> QuerySet[GenerationReport]:
    """The live reports the organization may read (of its generators, or submitted as a reporter),
    each with what was issued for it and is in force, if anything (`issued`: GenerationReportQuerySet.with_issued)."""
    return (GenerationReport.objects.visible_to(organization).live()
            .select_related("generator", "upload").order_by("-month", "generator__code").with_issued())


def issuance_for(organization: Organization, pk: int) -> Issuance | None:
    return (Issuance.objects.visible_to(organization).filter(pk=pk)
            .select_related("generator", "certificate", "report", "issued_by").first())


@dataclass(frozen=True)
class MonthEligibilities:
    """A generator's month to issue, with its recorded eligibilities: each with None when the month's
    certificates carry it, else why not (EligibilityGap: expired on, valid from)."""

    generator: Generator
    period: ProductionPeriod
    eligibilities: list[tuple[GeneratorEligibility, EligibilityGap | None]]

    @property
    def any_not_carried(self) -> bool:
        return any(gap is not None for _, gap in self.eligibilities)


ELIGIBILITY_MONTHS_SHOWN = 200  # a run may issue thousands of generators' month: those not carrying one come first


@dataclass(frozen=True)
class IssuancePreview:
    """What issuing a set of reports would make, for the staff's confirm page."""

    generators: int
    months: int
    mwh: Decimal
    certificates: int
    debit_paid: int  # certificates the generators owed (corrections' shortfalls), taken before issuing
    not_submitted: int  # selected reports already issued or replaced: issuance_run leaves them
    eligibilities: list[MonthEligibilities] = field(default_factory=list)  # at most ELIGIBILITY_MONTHS_SHOWN
    eligibility_months_more: int = 0  # the months left out of `eligibilities`
    eligibility_months_more_not_carried: int = 0  # of those, the months with an eligibility not carried
    granular_months: int = 0  # of `months`, granular generators': a certificate per interval, in Wh
    intervals: int = 0  # their certificates
    wh: int = 0

    @property
    def all_certificates(self) -> int:
        return self.certificates + self.intervals


def issuance_preview(reports: QuerySet[GenerationReport]) -> IssuancePreview:
    """The totals of issuing the submitted ones of `reports`, each generator's months in order from
    the carry its last issuance left (the arithmetic issuance_run applies)."""
    submitted = list(reports.filter(status=GenerationReport.Status.SUBMITTED).order_by("generator_id", "month")
                     .values_list("generator_id", "mwh", "month", "generator__granular"))
    generator_ids = {row[0] for row in submitted}
    balances = generator_balances(generator_ids)
    certificates = debit_paid = 0
    granular = Q()
    for generator_id, _, month, is_granular in submitted:
        if is_granular:
            granular |= Q(generator_id=generator_id, period__contained_by=ProductionPeriod.month_of(month).as_range())
    intervals = (IntervalReading.objects.filter(granular, wh__gt=0)
                 .aggregate(count=Count("pk"), wh=Sum("wh")) if granular else {"count": 0, "wh": 0})
    granular_months = sum(1 for row in submitted if row[3])
    submitted = [row[:3] for row in submitted if not row[3]]  # a monthly generator's: the carry's arithmetic
    for generator_id, mwh, _ in submitted:
        balance = balances[generator_id]
        whole, carry = issued_quantity(mwh, balance.carry)
        paid = min(whole, balance.debit)
        balances[generator_id] = balance._replace(carry=carry, debit=balance.debit - paid)
        certificates += whole - paid
        debit_paid += paid
    months = _months_eligibilities([(generator_id, month) for generator_id, _, month in submitted])
    return IssuancePreview(generators=len(generator_ids), months=len(submitted) + granular_months,
                           granular_months=granular_months, intervals=intervals["count"], wh=intervals["wh"] or 0,
                           mwh=sum((mwh for _, mwh, _ in submitted), Decimal(0)), certificates=certificates,
                           debit_paid=debit_paid,
                           not_submitted=reports.count() - len(submitted),
                           eligibilities=months[:ELIGIBILITY_MONTHS_SHOWN],
                           eligibility_months_more=len(months[ELIGIBILITY_MONTHS_SHOWN:]),
                           eligibility_months_more_not_carried=sum(
                               row.any_not_carried for row in months[ELIGIBILITY_MONTHS_SHOWN:]))


def _months_eligibilities(months: list[tuple[int, datetime.date]]) -> list[MonthEligibilities]:
    """Each generator's month with its recorded eligibilities as its certificates would carry them: the
    months with one not carried first, then by generator ID and month. Two queries."""
    recorded = generator_eligibilities(generator_id for generator_id, _ in months)
    generators = Generator.objects.in_bulk({generator_id for generator_id, _ in months})
    shown = []
    for generator_id, month in months:
        period = ProductionPeriod.month_of(month)
        shown.append(MonthEligibilities(generators[generator_id], period, [
            (eligibility, eligibility.gap_in(period)) for eligibility in recorded[generator_id]]))
    return sorted(shown, key=lambda row: (not row.any_not_carried, row.generator.code, row.period))


class Balance(NamedTuple):
    """Where a generator stands between issuances: its latest issuance in force (`follows`), the
    corrections approved so far (`sequence`, the last one's number), the fraction of a MWh carried
    to its next issuance and the certificates it owes (its debit, from corrections' shortfalls)."""

    follows: int | None
    sequence: int
    carry: Decimal
    debit: int


NO_BALANCE = Balance(None, 0, Decimal(0), 0)


def generator_balances(generator_ids: Iterable[int]) -> dict[int, Balance]:
    """Each generator's Balance: what its latest issuance in force left, or, if corrections were
    approved since, what the last of them left. Two queries; read under the generators' locks by
    the services that change it (issuance_run, corrections_approve)."""
    generator_ids = list(generator_ids)
    latest = {generator_id: (pk, carry, debit_in - debit_paid) for generator_id, pk, carry, debit_in, debit_paid in (
        Issuance.objects.in_force().filter(generator__in=generator_ids).order_by("generator_id", "-month")
        .distinct("generator_id").values_list("generator_id", "pk", "carry_out", "debit_in", "debit_paid"))}
    corrected = {generator_id: (sequence, follows, carry, debit) for generator_id, sequence, follows, carry, debit in (
        Correction.objects.filter(generator__in=generator_ids, status=Correction.Status.APPROVED)
        .order_by("generator_id", "-sequence").distinct("generator_id")
        .values_list("generator_id", "sequence", "follows_id", "carry_out", "debit_out"))}
    balances = {}
    for generator_id in generator_ids:
        follows, carry, debit = latest.get(generator_id, (None, Decimal(0), 0))
        sequence, corrected_after, corrected_carry, corrected_debit = corrected.get(generator_id, (0, None, None, None))
        if follows is not None and corrected_after == follows:  # corrected since its latest issuance
            carry, debit = corrected_carry, corrected_debit
        balances[generator_id] = Balance(follows, sequence, carry, debit)
    return balances


def issuances_corrected_mwh(issuance_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each issuance's month's MWh as corrected so far: the last approved correction's total, or the
    MWh it was issued for."""
    issuance_ids = list(issuance_ids)
    corrected = dict(Correction.objects.filter(issuance__in=issuance_ids, status=Correction.Status.APPROVED)
                     .order_by("issuance_id", "-sequence").distinct("issuance_id")
                     .values_list("issuance_id", "mwh_after"))
    return {pk: corrected.get(pk, mwh) for pk, mwh in
            Issuance.objects.filter(pk__in=issuance_ids).values_list("pk", "mwh")}


def corrections_for(organization: Organization) -> QuerySet[Correction]:
    """The corrections the organization may read: of its generators, or requested by it."""
    return (Correction.objects.visible_to(organization)
            .select_related("generator", "certificate", "requested_by", "issuance").order_by("-requested_at", "-pk"))


def interval_readings_for(organization: Organization) -> QuerySet[IntervalReading]:
    """The interval readings the organization may read: of its generators, or of those registry staff
    authorised it to report for (as reportable_generators finds them), with their generator and what became of
    each (IntervalReadingQuerySet.with_outcome)."""
    authorised = GenerationReporter.objects.filter(organization=organization, generator=OuterRef("generator"))
    return (IntervalReading.objects.filter(Q(generator__organization=organization) | Exists(authorised))
            .select_related("generator").with_outcome())


def interval_months(readings: list[IntervalReading]) -> QuerySet[GenerationReport]:
    """The live reports of the months the readings are in (their totals, as interval_readings_write left them)."""
    months = Q()
    for generator_id, month in {(reading.generator_id, reading.period.first_day.replace(day=1))
                                for reading in readings}:
        months |= Q(generator_id=generator_id, month=month)
    return GenerationReport.objects.live().filter(months).select_related("generator").order_by("generator__code",
                                                                                              "month")


def granular_reports_certificates(report_ids: Iterable[int]) -> QuerySet[Certificate]:
    """The certificates the issuance of granular generators' months (GenerationReport ids, a
    certificates.issued event's data["granular_report_ids"]) made: the generator's certificates of an
    interval in that month, not voided (one issuance per generator and period, and a month's readings
    are issued together: IntervalReadingQuerySet.with_outcome's rule). For the consumers that count an
    issuance (billing, the public statistics)."""
    reports = list(GenerationReport.objects.filter(pk__in=list(report_ids)).values_list("generator_id", "month"))
    if not reports:
        return Certificate.objects.none()
    wanted = Q()
    for generator_id, month in reports:
        wanted |= Q(generator_id=generator_id, period__contained_by=ProductionPeriod.month_of(month).as_range())
    return Certificate.objects.filter(wanted, voided_at__isnull=True, unit=Unit.WH)
