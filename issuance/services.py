"""Generation data in, certificates issued.

A generation upload is stored, then validated and applied by a worker, all or nothing, exactly once
(the run of a stored upload: utilities/upload_runs.py).

Staff issue reports with issuance_run: per generator and month, whole certificates from the MWh
plus the fraction carried from the generator's previous issuance (issuance.arithmetic), the
certificates written by certificates_write, the report compare-and-swapped submitted -> issued, an
Issuance row (the database refuses a second one for the month), then the standing instructions.
"""

import datetime
import functools
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from accounts.models import Account
from accounts.services import accounts_lock_for_share
from certificates.models import Certificate, Generator
from certificates.periods import Lower, ProductionPeriod, Upper
from certificates.reviews import organization_refusal, review_today
from certificates.services import IssueLine, certificates_write, intervals_write
from events.models import Event
from events.services import event_new, events_record
from instructions.selectors import instructions_apply
from instructions.services import instructions_run_all
from registry.models import Organization, User
from registry.services import ServiceError, role_require, staff_require
from utilities import csv_upload
from utilities.connections import on_own_connection
from utilities.upload_runs import upload_process, uploads_requeue_stalled
from utilities.wakeups import task_send

from . import generation, intervals
from .adjustments import CorrectionWanted, by_generator, chunks_by_organization, corrections_request_write
from .arithmetic import issued_quantity
from .models import GenerationReport, GenerationUpload, IntervalReading, Issuance
from .selectors import Balance, generator_balances

logger = logging.getLogger(__name__)
Status = GenerationUpload.Status
ReportStatus = GenerationReport.Status
# After an issuance commits (also sent every NOTIFICATION_SEND_SECONDS by beat).


def generation_upload_create(*, organization: Organization, user: User, upload) -> GenerationUpload:
    """Store an uploaded generation CSV and queue it for a worker after commit (a manager or trader of
    an organization not overdue for the annual generator review: certificates.reviews)."""
    role_require(user=user, organization=organization)
    if overdue := organization_refusal(organization, review_today()):
        raise ServiceError(overdue)
    raw = upload.read()
    problem = csv_upload.file_problem(raw)
    if problem:
        raise ServiceError(problem)
    digest = hashlib.sha256(raw).hexdigest()
    record = GenerationUpload(organization=organization, uploaded_by=user, filename=upload.name[:255],
                              sha256=digest, size=len(raw))
    record.file.save(f"{digest}.csv", ContentFile(raw), save=False)
    record.save()
    _queue_after_commit(record.pk)
    return record


def _queue_after_commit(upload_id: int) -> None:
    # The upload has committed: a broker that is away is logged (robust), not shown to the uploader.
    transaction.on_commit(functools.partial(task_send, "issuance.tasks.process_generation_upload", upload_id),
                          robust=True)


def generation_upload_process(*, upload_id: int) -> str:
    """Validate every row, then record all of them as submitted reports in one transaction, or none
    (upload_process: exactly once, an attempt counted each time). Raises UploadBusy while another
    task holds the upload."""
    return upload_process(GenerationUpload, upload_id, work=_generation_work, notify=_notify_after_commit)


def _generation_work(upload: GenerationUpload) -> tuple[list, int]:
    with upload.file.open("rb") as stored:
        raw = stored.read()
    if intervals.is_interval_file(raw):
        rows, errors, row_count = intervals.validate(raw, upload.organization)
        if not errors:
            try:
                with transaction.atomic():
                    interval_readings_write(upload=upload, rows=rows)
            except ServiceError as error:
                errors = [csv_upload.RowError(0, "", "", f"{upload.nothing_done}: {error}")]
        return errors, row_count
    rows, errors, row_count = generation.validate(raw, upload.organization)
    if not errors:
        try:
            with transaction.atomic():
                if reported := [row for row in rows if row.issuance_id is None]:
                    generation_reports_write(upload=upload, rows=reported)
                if corrected := [CorrectionWanted(row.issuance_id, row.mwh) for row in rows if row.issuance_id]:
                    corrections_request_write(organization=upload.organization, user=upload.uploaded_by,
                                              wanted=corrected, upload=upload)
        except ServiceError as error:  # an issuance or another upload came between validation and apply
            errors = [csv_upload.RowError(0, "", "", f"{upload.nothing_done}: {error}")]
    return errors, row_count


def generation_uploads_requeue_stalled() -> list[int]:
    """Queue again the generation uploads no worker holds (uploads_requeue_stalled). Run by beat
    every MASS_UPLOAD_SWEEP_SECONDS."""
    return uploads_requeue_stalled(GenerationUpload, queue=_queue_after_commit)


def _notify_after_commit(upload_id: int) -> None:
    transaction.on_commit(functools.partial(task_send, "issuance.tasks.send_generation_upload_notification",
                                            upload_id))


def generation_reports_write(*, upload: GenerationUpload | None, rows: list[generation.GenerationRow],
                             user: User | None = None) -> list:
    """Record the validated rows as submitted reports, inside the caller's transaction. A month
    already submitted and not yet issued is replaced (the corrected figure wins; the old report is
    kept, marked replaced); an issued month is refused. The live reports of the months named are
    locked in primary-key order, so an issuance run and this wait for each other. Submitted by the
    upload's uploader, or `user` (readings sent through the API: no upload)."""
    wanted = Q()
    for row in rows:
        wanted |= Q(generator_id=row.generator_id, month=row.month)
    live = list(GenerationReport.objects.live().filter(wanted).select_for_update(of=("self",)).order_by("pk")
                .select_related("generator"))
    issued = [report for report in live if report.status == ReportStatus.ISSUED]
    if issued:
        report = issued[0]
        raise ServiceError(f"{report.generator.code} {report.period} was issued meanwhile.")
    if live and GenerationReport.objects.filter(pk__in=[report.pk for report in live], status=ReportStatus.SUBMITTED
                                                ).update(status=ReportStatus.REPLACED) != len(live):
        raise ServiceError("A report of this file changed meanwhile. Upload it again.")
    try:
        with transaction.atomic():
            return GenerationReport.objects.bulk_create([GenerationReport(
                generator_id=row.generator_id, month=row.month, mwh=row.mwh, upload=upload,
                submitted_by=user or upload.uploaded_by,
            ) for row in rows])
    except IntegrityError as error:  # another upload of the same month committed first
        raise ServiceError("Another upload reported one of these months at the same time. Upload it again.") \
            from error


class IntervalsRefused(ServiceError):
    """Interval readings sent through the API refused by the interval rules (issuance.intervals), each wrong
    value named in `problems` (`readings.3.interval_end`: the body's `readings[3].interval_end`)."""

    def __init__(self, errors: list[csv_upload.RowError]):
        self.problems: dict[str, str] = {}
        for error in errors:
            field = f"readings.{error.row}.{error.column}"
            self.problems[field] = " ".join(filter(None, [self.problems.get(field), error.message]))
        count = len({error.row for error in errors})
        super().__init__(f"{count} of the readings {'is' if count == 1 else 'are'} refused (each is named in "
                         f"errors); nothing was recorded.")


def interval_readings_submit(*, organization: Organization, user: User,
                             readings: list[intervals.ReadingText]) -> list[IntervalReading]:
    """Interval readings a meter data system sends through the API (a manager's or trader's key, of an
    organization not overdue for the annual generator review, as an upload): the interval file's rules
    (intervals.validate_records), all or nothing, recorded with their months' reports as a file's are
    (interval_readings_write), in the caller's transaction (the API's idempotent request). Raises
    IntervalsRefused naming each wrong reading by its index."""
    role_require(user=user, organization=organization)
    if overdue := organization_refusal(organization, review_today()):
        raise ServiceError(overdue)
    rows, errors = intervals.validate_records(
        [(index, *reading) for index, reading in enumerate(readings)], organization,
        label=intervals.READING_FIELDS, row_name=intervals.reading_name)
    if errors:
        raise IntervalsRefused(errors)
    return interval_readings_write(upload=None, user=user, rows=rows)


def interval_readings_write(*, upload: GenerationUpload | None, rows: list[intervals.IntervalRow],
                            user: User | None = None) -> list[IntervalReading]:
    """Record a granular generator's validated interval readings, inside the caller's transaction, and
    the total of each month they are in as its report (generation_reports_write: the month's submitted
    report replaced by one of the new total; an issued month refused, so late intervals of an issued
    month are refused too). The database refuses an interval overlapping one reported already.

    The generators are locked first (FOR NO KEY UPDATE, in primary-key order, as an issuance run locks
    them), so that two uploads or API requests of one generator's month follow each other and the second
    totals the first's readings with its own, instead of one of them failing on the month's report."""
    user = user or upload.uploaded_by
    list(Generator.objects.select_for_update(no_key=True).filter(pk__in={row.generator_id for row in rows})
         .order_by("pk").values_list("pk", flat=True))
    try:
        with transaction.atomic():
            readings = IntervalReading.objects.bulk_create([IntervalReading(
                generator_id=row.generator_id, period=row.period, wh=row.wh, upload=upload,
                submitted_by=user) for row in rows], batch_size=5000)
    except IntegrityError as error:  # another upload of an overlapping interval committed first
        raise ServiceError("Another upload reported one of these intervals at the same time. Upload it again.") \
            from error
    months = {(row.generator_id, ProductionPeriod.month_of(row.period.start)) for row in rows}
    wanted = Q()
    for generator_id, month in months:
        wanted |= Q(generator_id=generator_id, period__contained_by=month.as_range())
    totals: dict[tuple[int, ProductionPeriod], int] = defaultdict(int)
    for generator_id, period, wh in IntervalReading.objects.filter(wanted).values_list("generator_id", "period", "wh"):
        totals[generator_id, ProductionPeriod.month_of(period.start)] += wh
    generation_reports_write(upload=upload, user=user, rows=[
        generation.GenerationRow(0, generator_id, month.first_day, intervals.wh_as_mwh(totals[generator_id, month]))
        for generator_id, month in sorted(months, key=lambda key: (key[0], key[1]))])
    return readings


@dataclass
class IssuanceRun:
    """What issuance_run did: the months issued, and those it left with the reason."""

    issued: list[Issuance] = field(default_factory=list)
    skipped: list[tuple[GenerationReport, str]] = field(default_factory=list)
    runs: list = field(default_factory=list)  # what the standing instructions did
    granular: list[GenerationReport] = field(default_factory=list)  # granular generators' months issued
    intervals: int = 0  # their certificates: one per interval
    wh: int = 0  # and their Wh

    @property
    def certificates(self) -> int:
        return sum(issuance.quantity for issuance in self.issued) + self.intervals


# Generators issued per transaction: each transaction holds their rows' locks while it writes;
# bench/issuance.py issues 5,000 generators' month in 5 of them.
GENERATORS_PER_TRANSACTION = 1000
# Granular generators' months per transaction: each is up to 745 certificates (an hour each), so that a
# transaction's rows stay few and the run's memory flat (bench/hourly_issuance.py).
GRANULAR_GENERATORS_PER_TRANSACTION = 20


def issuance_run(*, user: User, reports: Iterable[GenerationReport]) -> IssuanceRun:
    """Issue each submitted report (registry staff): one issuance per generator and month.

    Per transaction of up to GENERATORS_PER_TRANSACTION generators: their rows locked (so two runs
    over the same generator follow each other, and each reads the carry the other left), then their
    reports FOR UPDATE in primary-key order; each generator's months in order, each issued only if
    still submitted, the generator approved with an open active issuance account of its owner, and
    no later month issued yet. The carry runs from month to month. A report that cannot be issued
    is left submitted and given back with the reason; the others go ahead.

    Each organization's members are emailed what was issued to it, from the certificates.issued event
    its transaction records (notifications.issuance: one email per organization, its generators being
    issued together).

    The transactions share no generator, report or issuance account, so up to ISSUANCE_CONNECTIONS of them
    run at once, each on a connection of its own (a thread each: the time is the database's, whose work
    then spreads over its cores; bench/hourly_issuance.py). Inside a caller's transaction they run one
    after the other on its connection, as other connections would not see its rows.
    """
    staff_require(user=user)
    selected = GenerationReport.objects.filter(pk__in=[report.pk for report in reports]).order_by("generator_id", "pk")
    work = []
    for granular, size in ((False, GENERATORS_PER_TRANSACTION), (True, GRANULAR_GENERATORS_PER_TRANSACTION)):
        ids, by_organization = by_generator(selected.filter(generator__granular=granular).values_list(
            "pk", "generator_id", "generator__organization_id"))
        work += [(chunk, [pk for generator_id in chunk for pk in ids[generator_id]])
                 for chunk in chunks_by_organization(by_organization, size)]

    def issue(chunk: tuple[list[int], list[int]]) -> IssuanceRun:
        done = IssuanceRun()
        _issue_generators(user=user, generator_ids=chunk[0], report_ids=chunk[1], result=done)
        return done

    connections_used = 1 if connection.in_atomic_block else min(settings.ISSUANCE_CONNECTIONS, len(work))
    if connections_used > 1:
        with ThreadPoolExecutor(connections_used) as pool:
            done = list(pool.map(on_own_connection(issue), work))
    else:
        done = [issue(chunk) for chunk in work]
    result = IssuanceRun()
    for part in done:  # in the order of the transactions
        result.issued += part.issued
        result.skipped += part.skipped
        result.runs += part.runs
        result.granular += part.granular
        result.intervals += part.intervals
        result.wh += part.wh
    return result



@transaction.atomic(durable=True)
def _issue_generators(*, user: User, generator_ids: list[int], report_ids: list[int], result: IssuanceRun) -> None:
    generators = {generator.pk: generator for generator in (
        Generator.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=generator_ids)
        .select_related("organization", "account").order_by("pk"))}
    reports = list(GenerationReport.objects.select_for_update(of=("self",)).filter(pk__in=report_ids).order_by("pk"))
    last = dict(Issuance.objects.in_force().filter(generator__in=generator_ids).order_by("generator_id", "-month")
                .distinct("generator_id").values_list("generator_id", "month"))
    balances = generator_balances(generator_ids)  # the carry and debit, as corrections left them
    certified = set(Certificate.objects.filter(
        generator__in=generator_ids, voided_at__isnull=True,
        period__in={ProductionPeriod.month_of(r.month) for r in reports}
    ).values_list("generator_id", "period"))
    accounts = accounts_lock_for_share(generator.account_id for generator in generators.values()
                                       if generator.account_id)

    readings = _interval_readings(reports, generators)
    issuances, lines, granular = [], [], []
    for report in sorted(reports, key=lambda report: (report.generator_id, report.month)):
        generator = report.generator = generators[report.generator_id]
        balance = balances[generator.pk]
        reason = _cannot_issue(report, generator, accounts.get(generator.account_id), last.get(generator.pk),
                               (generator.pk, ProductionPeriod.month_of(report.month)) in certified)
        if reason:
            result.skipped.append((report, reason))
            continue
        if generator.granular:  # a certificate per interval, in Wh: no carry, no monthly issuance row
            granular.append(report)
            continue
        whole, carry_out = issued_quantity(report.mwh, balance.carry)
        paid = min(whole, balance.debit)  # what the generator owes is taken before anything is issued
        quantity = whole - paid
        issuances.append(Issuance(generator=generator, month=report.month, report=report, mwh=report.mwh,
                                  carry_in=balance.carry, carry_out=carry_out, quantity=quantity,
                                  debit_in=balance.debit, debit_paid=paid, issued_by=user))
        if quantity:
            lines.append(IssueLine(generator, ProductionPeriod.month_of(report.month), quantity, generator.account))
        last[generator.pk] = report.month
        balances[generator.pk] = Balance(None, balance.sequence, carry_out, balance.debit - paid)
    if granular:
        _issue_intervals(user=user, reports=granular, readings=readings, result=result)
    if not issuances:
        return
    issued_ids = [issuance.report.pk for issuance in issuances]
    if GenerationReport.objects.filter(pk__in=issued_ids, status=ReportStatus.SUBMITTED).update(
            status=ReportStatus.ISSUED) != len(issued_ids):
        raise ServiceError("A report changed while it was being issued; nothing was issued. Try again.")

    def issuance_rows(certificates: list[Certificate]) -> list[list[Issuance]]:
        issued = iter(certificates)
        for issuance in issuances:
            issuance.certificate = next(issued) if issuance.quantity else None
        return [issuances]

    # The issuance rows go in the certificates' statement; the generators' locks keep a second
    # issuance of the month out, and the unique constraint is the database's last word on it.
    certificates_write(user=user, lines=lines, with_rows=issuance_rows)
    written = list(Issuance.objects.in_force().filter(report__in=issued_ids).select_related("generator", "certificate")
                   .order_by("generator_id", "month"))  # with their ids
    _issued_record(written)
    # The standing instructions of the owners, applied to the chunk's new issuances together in this
    # same transaction (instructions_run_all: one transfer per sender and destination, not per move).
    result.runs.extend(instructions_run_all(
        certificates=[issuance.certificate for issuance in written if issuance.certificate], user=user))
    result.issued.extend(written)


def _interval_readings(reports: list[GenerationReport], generators: dict[int, Generator]
                       ) -> dict[int, list[tuple[ProductionPeriod, int]]]:
    """The interval readings (period, Wh) of each granular generator's month reported (by report id), in order.
    The reports' locks keep them as they are: an upload writes readings with its month's report, refused once
    it is issued."""
    months = [(report, ProductionPeriod.month_of(report.month)) for report in reports
              if generators[report.generator_id].granular]
    if not months:
        return {}
    wanted = Q()
    for report, month in months:
        wanted |= Q(generator_id=report.generator_id, period__contained_by=month.as_range())
    found: dict[tuple[int, datetime.date], list[tuple[ProductionPeriod, int]]] = defaultdict(list)
    bounds = {"start": Lower("period"), "end": Upper("period")}  # parsed faster than the range
    months_starting: dict[datetime.datetime, datetime.date] = {}  # the month of a moment: the same hours recur
    for generator_id, start, end, wh in IntervalReading.objects.filter(wanted).order_by(
            "generator_id", "period").values_list("generator_id", bounds["start"], bounds["end"], "wh"):
        period = ProductionPeriod(start, end)
        if start not in months_starting:
            months_starting[start] = period.first_day.replace(day=1)
        found[generator_id, months_starting[start]].append((period, wh))
    return {report.pk: found[report.generator_id, report.month] for report, _ in months}


def _issue_intervals(*, user: User, reports: list[GenerationReport],
                     readings: dict[int, list[tuple[ProductionPeriod, int]]], result: IssuanceRun) -> None:
    """Issue granular generators' months (their reports locked, checked by _cannot_issue): one certificate
    per interval read, its quantity the interval's Wh, into the generator's issuance account
    (certificates.services.intervals_write: the interval in the serial base, its expiry, the emissions
    factor); an interval of 0 Wh issues none. Each report is marked issued (compare-and-swap), in the caller's
    transaction, with one certificates.issued event per organization (data["granular_report_ids"]) and the
    standing instructions run on the new certificates. The readings are not written: what became of each is
    read from its month's report (IntervalReadingQuerySet.with_outcome)."""
    report_ids = [report.pk for report in reports]
    if GenerationReport.objects.filter(pk__in=report_ids, status=ReportStatus.SUBMITTED).update(
            status=ReportStatus.ISSUED) != len(report_ids):
        raise ServiceError("A report changed while it was being issued; nothing was issued. Try again.")
    lines = [IssueLine(report.generator, period, wh, report.generator.account)
             for report in reports for period, wh in readings[report.pk] if wh]
    certificate_ids = intervals_write(user=user, lines=lines) if lines else []
    by_organization: dict[int, list[int]] = defaultdict(list)
    for report in reports:
        by_organization[report.generator.organization_id].append(report.pk)
    events_record([event_new(kind=Event.Kind.CERTIFICATES_ISSUED, organization_id=organization_id,
                             data={"granular_report_ids": ids}) for organization_id, ids in by_organization.items()])
    if certificate_ids and instructions_apply(generators=[report.generator for report in reports]):
        certificates = list(Certificate.objects.filter(pk__in=certificate_ids).select_related("generator")
                            .prefetch_related("batches").order_by("pk"))
        for certificate in certificates:
            certificate.issued_batch = certificate.batches.all()[0]  # its one batch, as issued
        result.runs.extend(instructions_run_all(certificates=certificates, user=user))
    result.granular.extend(reports)
    result.intervals += len(certificate_ids)
    result.wh += sum(line.quantity for line in lines)


def _issued_record(issuances: list[Issuance]) -> None:
    """What the transaction issued, one certificates.issued event per organization (in it): the emails
    consumer sends each organization one email of it (notifications.issuance)."""
    issued: dict[int, list[int]] = defaultdict(list)
    for issuance in issuances:
        if issuance.quantity:
            issued[issuance.generator.organization_id].append(issuance.pk)
    events_record([event_new(kind=Event.Kind.CERTIFICATES_ISSUED, organization_id=organization_id,
                             data={"issuance_ids": issuance_ids}) for organization_id, issuance_ids in issued.items()])


def _cannot_issue(report: GenerationReport, generator: Generator, account: dict | None,
                  previous_month: datetime.date | None, certified: bool) -> str | None:
    """Why this report cannot be issued now; None if it can."""
    month = f"{generator.code} {report.period}"
    if report.status == ReportStatus.ISSUED:
        return f"{month} is issued already."
    if report.status != ReportStatus.SUBMITTED:
        return f"{month} was replaced by a later upload."
    if generator.status != Generator.Status.APPROVED:
        return f"{month}: {generator.code} is not approved ({generator.get_status_display().lower()})."
    if generator.account_id is None:
        return f"{month}: {generator.code} has no issuance account; set one on the generator first."
    if account is None or account["organization_id"] != generator.organization_id \
            or not Account.is_open_active_state(type=account["type"], status=account["status"]):
        return f"{month}: the issuance account {generator.account.public_id} is not an open active account of " \
               f"{generator.organization.name}."
    if previous_month and previous_month >= report.month:
        return f"{month}: {ProductionPeriod.month_of(previous_month)} is issued already; months are issued in order."
    if certified:
        return f"{month}: certificates were issued for this month by hand already."
    return None

