"""Validating a generation-data CSV (columns A to C of its template: Generator ID, Month, MWh), read
by utilities.csv_upload. Every problem is reported with its row, column, value and a plain message.
A month issued already is not a problem: its row is the month's corrected total, a correction request
(issuance.adjustments) when it differs from the total the month has."""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.utils import timezone

from certificates.models import Generator
from certificates.periods import ProductionPeriod
from registry.models import Organization
from utilities.csv_upload import Layout, RowError, column_label, read_rows

from .models import MWH_DECIMALS, Correction, GenerationReport, GenerationReporter, Issuance
from .selectors import issuances_corrected_mwh

COLUMNS = ["Generator ID", "Month", "MWh"]
GENERATION = Layout(
    COLUMNS,
    {"generator id": "Generator ID", "generator": "Generator ID", "generator code": "Generator ID",
     "month": "Month", "vintage": "Month", "mwh": "MWh", "generation": "MWh", "generation mwh": "MWh",
     "generation (mwh)": "MWh"},
    frozenset(), "generation rows", max_rows_setting="GENERATION_UPLOAD_MAX_ROWS", number_column="MWh")
MWH = re.compile(r"^-?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]*)?$")
MWH_MAX = Decimal(10) ** (GenerationReport._meta.get_field("mwh").max_digits - MWH_DECIMALS)


@dataclass(frozen=True, slots=True)
class GenerationRow:
    row: int
    generator_id: int
    month: datetime.date
    mwh: Decimal
    issuance_id: int | None = None  # an issued month: the row is its corrected total (a correction request)


def parse_mwh(text: str) -> Decimal | str:
    """The MWh of a cell as a Decimal, or what is wrong with it."""
    match = MWH.match(text.replace(" ", ""))
    if not match:
        return "Enter the generation in MWh as a number, e.g. 1250.5 or 1,250.500."
    if text.lstrip().startswith("-"):
        return "The generation cannot be negative."
    try:
        mwh = Decimal(match[1].replace(",", "") + (match[2] or ""))
    except InvalidOperation:
        return "Enter the generation in MWh as a number, e.g. 1250.5 or 1,250.500."
    if len((match[2] or ".").rstrip("0")) - 1 > MWH_DECIMALS:
        return f"The generation has more than {MWH_DECIMALS} decimals; MWh are reported to the kWh (e.g. 1250.125)."
    if mwh >= MWH_MAX:
        return f"This is more than any generator makes in a month (the limit is {MWH_MAX:,} MWh)."
    return mwh


def reportable_generators(organization: Organization, codes: set[str]) -> dict[str, Generator]:
    """The generators named (by code, upper case), each with `reportable`: whether `organization`
    may report for it, as its owner or as a reporting entity that registry staff authorised."""
    authorised = GenerationReporter.objects.filter(organization=organization, generator=OuterRef("pk"))
    return {generator.code.upper(): generator for generator in (
        Generator.objects.annotate(code_upper=Upper("code"), reportable=Q(organization=organization)
                                   | Exists(authorised))
        .filter(code_upper__in=codes))}


def generator_refusal(code: str, generator: Generator | None, organization: Organization, *,
                      granular: bool) -> str | None:
    """Why the generator a row names (`code`, found as reportable_generators found it, or None) cannot
    have generation reported by `organization` in this file (monthly, or `granular`: per interval); None
    if it can."""
    if not code:
        return "Enter the generator ID, e.g. M805."
    if generator is None or not generator.reportable:
        return f"{organization.name} has no generator with this ID, and is not authorised to report for one."
    if generator.status != Generator.Status.APPROVED:
        return (f"{generator.code} is not approved by the registry ({generator.get_status_display().lower()}); "
                "no generation can be reported for it yet.")
    if generator.granular and not granular:
        return (f"{generator.code} is a granular generator: report its generation per interval (Generator ID, "
                "Interval start, Interval end, Wh).")
    if granular and not generator.granular:
        return f"{generator.code} is not a granular generator: report its generation per month (Generator ID, " \
               "Month, MWh)."
    return None


def validate(raw: bytes, organization: Organization) -> tuple[list[GenerationRow], list[RowError], int]:
    """Every row checked against the registry as it is now: (rows, errors, row count)."""
    records, errors = read_rows(raw, GENERATION)
    if errors:
        return [], errors, len(records)
    label = {name: column_label(index, name) for index, name in enumerate(COLUMNS)}
    generators = reportable_generators(organization, {record[1].upper() for record in records if record[1]})
    first_open = ProductionPeriod.month_of(timezone.now()).first_day  # not over: not yet reportable
    months = {period.first_day for period in map(ProductionPeriod.parse_month, (record[2] for record in records))
              if period}
    named = [generator.pk for generator in generators.values()]
    issued = {(generator_id, month): pk for generator_id, month, pk in Issuance.objects.in_force().filter(
        generator__in=named, month__in=months).values_list("generator_id", "month", "pk")}
    current = issuances_corrected_mwh(issued.values())  # an issued month's total, as corrected so far
    awaiting = set(Correction.objects.filter(issuance__in=list(issued.values()), status=Correction.Status.REQUESTED)
                   .values_list("issuance_id", flat=True))
    seen: dict[tuple[int, datetime.date], int] = {}

    rows = []
    for number, code, month_text, mwh_text in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, label[column], value, message))

        generator = generators.get(code.upper())
        if refusal := generator_refusal(code, generator, organization, granular=False):
            refuse("Generator ID", code, refusal)
            generator = None
        period = ProductionPeriod.parse_month(month_text)
        month = period.first_day if period else None  # as the report's column holds it
        if month is None:
            refuse("Month", month_text, "Enter the month as MM/YYYY, e.g. 01/2025.")
        elif month >= first_open:
            refuse("Month", month_text, f"{period} is not over yet; report a month once it has ended.")
            month = None
        elif generator and issued.get((generator.pk, month)) in awaiting:
            refuse("Month", month_text, f"A correction of {generator.code} {period} is awaiting the registry's "
                                        "decision; correct the month again once it is decided.")
            month = None
        elif generator:
            first = seen.setdefault((generator.pk, month), number)
            if first != number:
                refuse("Month", month_text, f"{generator.code} {period} is already in row {first} of this "
                                            "file; report each generator's month once.")
                month = None
        mwh = parse_mwh(mwh_text)
        if isinstance(mwh, str):
            refuse("MWh", mwh_text, mwh)
        if errors:
            continue
        issuance_id = issued.get((generator.pk, month))
        if issuance_id is None:
            rows.append(GenerationRow(number, generator.pk, month, mwh))
        elif mwh != current[issuance_id]:  # an issued month corrected: a correction request for staff
            rows.append(GenerationRow(number, generator.pk, month, mwh, issuance_id))
        # an issued month at the total it has already: nothing to correct, left as it is
    return ([] if errors else rows), errors, len(records)
