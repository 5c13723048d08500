"""Hourly matching's writes: registering a consumption site, recording its consumption, and "Match",
which retires, hour by hour, held hourly certificates of that hour up to the consumption, through the
one retirement rule (retirements.services.retirement_write), and writes the matching statement."""

import bisect
import datetime
import re

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Upper
from django.utils import timezone

from accounts.models import Account
from certificates.periods import ProductionPeriod
from certificates.serials import format_serial
from registry.models import Organization, User
from registry.services import role_require
from retirements.models import Retirement, RetirementOption
from retirements.services import RetirementDetails, retirement_write
from transfers.services import TransferLine
from utilities.display import iso_utc

from .consumption import FILE_LABELS, validate
from .models import MATCHING_OPTION, ConsumptionReading, ConsumptionSite, MatchingStatement
from .selectors import Candidate, ConsumptionHour, hours_open, matching_candidates
from .values import ConsumptionRefused, MatchingRefused

SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# What a match adds to each reading's matched Wh, in one statement (bulk_update's CASE per row is slower:
# bench/matching.py); the database's CHECK refuses more than the reading's consumption.
MATCHED_SQL = f"""
    UPDATE {ConsumptionReading._meta.db_table} AS reading SET matched_wh = reading.matched_wh + matched.wh
    FROM unnest(%s::bigint[], %s::bigint[]) AS matched(id, wh) WHERE reading.id = matched.id
"""


def _tidy(text: str) -> str:
    return " ".join((text or "").split())


@transaction.atomic(durable=True)
def site_register(*, organization: Organization, user: User, code: str, name: str,
                  grid_area: str = "") -> ConsumptionSite:
    """A new consumption site of the organization, registered by a member who may transfer: its ID is
    unique in the organization (in any case), letters, digits, dots, dashes and underscores."""
    role_require(user=user, organization=organization)
    code, name, grid_area = (code or "").strip(), _tidy(name), _tidy(grid_area)
    field = ConsumptionSite._meta.get_field
    if not code:
        raise MatchingRefused("Give the site's ID, as its consumption files will name it.", field="code")
    if len(code) > field("code").max_length or not SITE_CODE.match(code):
        raise MatchingRefused(f"A site ID is up to {field('code').max_length} letters, digits, dots, dashes or "
                              "underscores, e.g. METER-0042.", field="code")
    if not name:
        raise MatchingRefused("Give the site a name.", field="name")
    if len(name) > field("name").max_length:
        raise MatchingRefused(f"A site's name is at most {field('name').max_length} characters.", field="name")
    if len(grid_area) > field("grid_area").max_length:
        raise MatchingRefused(f"A grid area is at most {field('grid_area').max_length} characters.",
                              field="grid_area")
    # The organization's row, locked: two registrations of one ID wait for each other, and the second is refused.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if ConsumptionSite.objects.filter(organization=organization, code__iexact=code).exists():
        raise MatchingRefused(f"{organization.name} has a site with the ID {code} already.", field="code")
    return ConsumptionSite.objects.create(organization=organization, code=code, name=name, grid_area=grid_area,
                                          created_by=user)


@transaction.atomic(durable=True)
def consumption_record(*, organization: Organization, user: User, records: list[tuple],
                       labels: dict[str, str] = FILE_LABELS) -> int:
    """consumption_write in a transaction of its own (the page's upload)."""
    return consumption_write(organization=organization, user=user, records=records, labels=labels)


@transaction.atomic
def consumption_write(*, organization: Organization, user: User, records: list[tuple],
                      labels: dict[str, str] = FILE_LABELS) -> int:
    """Record consumption readings (records as consumption.validate takes them: a file's rows, or the
    API's), all or nothing: ConsumptionRefused with every problem, and nothing recorded. The sites
    named are locked first, so that two uploads of one interval record it once. Returns the count."""
    role_require(user=user, organization=organization)
    codes = {record[1].upper() for record in records if record[1]}
    list(ConsumptionSite.objects.select_for_update().filter(organization=organization)
         .annotate(code_upper=Upper("code")).filter(code_upper__in=codes).order_by("pk").values_list("pk"))
    rows, errors = validate(records, organization, labels=labels)
    if errors:
        raise ConsumptionRefused(errors)
    now = timezone.now()
    ConsumptionReading.objects.bulk_create([
        ConsumptionReading(site_id=row.site_id, period=row.period, wh=row.wh, submitted_by=user, submitted_at=now)
        for row in rows], batch_size=2000)
    return len(rows)


def matching_option() -> RetirementOption:
    """The retirement option every match retires with (a voluntary claim), the registry's own
    (registry_only: never offered to users for a retirement they pick by hand), made by the first match
    if staff have not made it (INSERT .. ON CONFLICT DO NOTHING: two first matches at once make it once).
    One staff made by hand is made the registry's own here."""
    RetirementOption.objects.bulk_create([RetirementOption(
        name=MATCHING_OPTION, type=RetirementOption.Type.VOLUNTARY_CLAIM,
        reason=RetirementOption.Reason.VOLUNTARY, registry_only=True)], ignore_conflicts=True)
    option = RetirementOption.objects.get(name=MATCHING_OPTION)
    if not option.registry_only:
        RetirementOption.objects.filter(pk=option.pk).update(registry_only=True)
        option.registry_only = True
    return option


def _allocation(hours: list[ConsumptionHour], candidates: list[Candidate]) -> list[list[tuple[Candidate, int]]]:
    """For each hour, the batches (and quantities) a match takes: those of certificates whose interval
    lies within the hour (an hourly certificate, or four of 15 minutes), in the candidates' order
    (interval, certificate, lowest serial), until the hour's open consumption (its readings' sum) is
    covered; the last one taken partly (its lowest serials). A certificate across an hour's end serves
    neither hour: its Wh cannot be divided between them without dividing its claim."""
    starts = [hour.period.start for hour in hours]
    open_wh = [hour.open_wh for hour in hours]
    takes: list[list[tuple[Candidate, int]]] = [[] for _ in hours]
    for candidate in candidates:
        index = bisect.bisect_right(starts, candidate.start) - 1
        if index < 0 or open_wh[index] == 0 or candidate.end > hours[index].period.end:
            continue  # before the first hour, in an hour matched already, or across the hour's end
        quantity = min(open_wh[index], candidate.quantity)
        open_wh[index] -= quantity
        takes[index].append((candidate, quantity))
    return takes


def _matched_readings(hours: list[ConsumptionHour], takes: list[list[tuple[Candidate, int]]]) -> dict[int, int]:
    """What each reading has matched now, by its id: each hour's matched Wh counted against its readings
    earliest first (matching is by the hour; which quarter of it a Wh is counted against says nothing
    more, and earliest first needs no fractions)."""
    matched = {}
    for hour, taken in zip(hours, takes, strict=True):
        left = sum(quantity for _, quantity in taken)
        for reading in hour.readings:
            if part := min(left, reading.open_wh):
                matched[reading.pk] = part
                left -= part
    return matched


@transaction.atomic(durable=True)
def match_run(*, organization: Organization, user: User, site: ConsumptionSite, account: Account,
              span: ProductionPeriod | None = None) -> MatchingStatement:
    """match_write in a transaction of its own (the page's Match: one transaction per request)."""
    return match_write(organization=organization, user=user, site=site, account=account, span=span)


@transaction.atomic
def match_write(*, organization: Organization, user: User, site: ConsumptionSite, account: Account,
                span: ProductionPeriod | None = None) -> MatchingStatement:
    """Match the site's consumption left unmatched (within `span`, if given) hour by hour: retire into
    `account` (an open retirement account of the organization), for each hour of the registry's clock
    (issuance.intervals.clock_hour), held active certificates whose interval lies within that hour (of
    the site's grid area or of none, where the site names one), lowest serials first, never more than
    the hour's open consumption (its readings summed, whatever the meter's interval), never a
    certificate of another hour. One retirement for the whole match, through the one retirement rule (its locks, checks,
    ledger and domain events), and one matching statement. The site is locked first: two matches of
    one site at once match each hour once (the second finds it matched). The database refuses a
    reading matched beyond its consumption. Inside the caller's transaction (the API's exactly-once
    request stores its answer with it)."""
    role_require(user=user, organization=organization)
    locked = ConsumptionSite.objects.select_for_update().filter(pk=site.pk, organization=organization).first()
    if locked is None:
        raise MatchingRefused("There is no such consumption site.", field="site")
    hours = hours_open(locked, span)
    if not hours:
        raise MatchingRefused(f"Site {locked.code} has no consumption left to match"
                              f"{' in this period' if span else ''}: upload its consumption first.")
    now = timezone.now()
    whole = ProductionPeriod(hours[0].period.start, hours[-1].period.end)
    takes = _allocation(hours, matching_candidates(organization=organization, site=locked, span=whole, now=now))
    lines = [TransferLine(candidate.batch_id, quantity) for taken in takes for candidate, quantity in taken]
    if not lines:
        raise MatchingRefused(f"{organization.name} holds no active hourly certificates of the hours of site "
                              f"{locked.code}'s unmatched consumption{' of its grid area' if locked.grid_area else ''}"
                              ", so nothing was retired.")
    details = RetirementDetails(option=matching_option(), period_start=hours[0].period.first_day,
                                period_end=hours[-1].period.last_day, by_registry=True)
    transfer = retirement_write(organization=organization, user=user, lines=lines, account=account, details=details,
                                notes=f"24/7 hourly matching of site {locked.code}")
    matched = _matched_readings(hours, takes)
    with connection.cursor() as cursor:
        cursor.execute(MATCHED_SQL, [list(matched), list(matched.values())])
    retirement = Retirement.objects.get(transfer_id=transfer.pk)
    record = _statement_record(organization=organization, site=locked, retirement=retirement, at=now,
                               hours=hours, takes=takes)
    return MatchingStatement.objects.create(retirement=retirement, site=locked, record=record, created_at=now)


def _statement_record(*, organization: Organization, site: ConsumptionSite, retirement: Retirement,
                      at: datetime.datetime, hours: list[ConsumptionHour],
                      takes: list[list[tuple[Candidate, int]]]) -> dict:
    """The statement's public record (its digest is matching.statements.statement_digest's): each hour
    of the registry's clock with open consumption (its readings summed, as matched before this
    statement), what earlier statements had matched of it, and what this one matched, with the serials
    retired for it."""
    rows = []
    for hour, taken in zip(hours, takes, strict=True):
        rows.append({
            "start": iso_utc(hour.period.start), "end": iso_utc(hour.period.end),
            "consumption_wh": hour.consumption_wh, "matched_before_wh": hour.matched_wh,
            "matched_wh": sum(quantity for _, quantity in taken),
            "certificates": [{"serial_number": format_serial(candidate.serial_base, candidate.serial_start,
                                                             candidate.serial_start + quantity - 1),
                              "quantity": quantity, "generator": candidate.generator_code}
                             for candidate, quantity in taken],
        })
    return {
        "registry": settings.REGISTRY_NAME,
        "reference": retirement.reference,
        "matched_at": iso_utc(at),
        "organization": {"name": organization.name, "id": organization.public_id},
        "site": {"id": site.code, "name": site.name, "grid_area": site.grid_area},
        "retirement_option": MATCHING_OPTION,
        "hours": rows,
        "consumption_wh": sum(row["consumption_wh"] for row in rows),
        "matched_wh": sum(row["matched_wh"] for row in rows),
    }
