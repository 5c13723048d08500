"""Validating a site's consumption per interval: a CSV of Site ID, Interval start, Interval end (ISO 8601
with the offset from UTC) and Wh, read by utilities.csv_upload like the generators' interval data
(issuance.intervals: the same moments, the same Wh and the same interval rule), or the same rows sent
as JSON to the API. Every problem names its row (or the body's field), its column and the reason; the
readings are recorded all or nothing (matching.services.consumption_record).

An interval is over, lies within one hour of the registry's clock (issuance.intervals.
consumption_interval_refusal: a meter may read every 15 minutes while certificates are hourly, or
hourly while they are 15-minute; matching sums both per hour, and a reading across an hour's end is
refused, to be split there, rather than divided between two hours by a guess), and overlaps no other
of the site's, in the file or recorded before (the database's exclusion constraint has the last
word)."""

from dataclasses import dataclass

from django.db.models.functions import Upper
from django.utils import timezone

from certificates.periods import ProductionPeriod
from issuance.intervals import consumption_interval_refusal, interval_overlaps, parse_wh, reading_interval
from registry.models import Organization
from utilities.csv_upload import Layout, RowError, column_label

from .models import ConsumptionReading, ConsumptionSite

COLUMNS = ["Site ID", "Interval start", "Interval end", "Wh"]
CONSUMPTION = Layout(
    COLUMNS,
    {"site id": "Site ID", "site": "Site ID", "meter": "Site ID", "meter id": "Site ID",
     "interval start": "Interval start", "start": "Interval start", "start time": "Interval start",
     "interval end": "Interval end", "end": "Interval end", "end time": "Interval end",
     "wh": "Wh", "consumption wh": "Wh", "consumption (wh)": "Wh", "energy (wh)": "Wh"},
    frozenset(), "consumption rows", max_rows_setting="CONSUMPTION_UPLOAD_MAX_ROWS", number_column="Wh")
# The file's column labels ("A (Site ID)"); the API names its fields instead (api.views_matching).
FILE_LABELS = {name: column_label(index, name) for index, name in enumerate(COLUMNS)}


@dataclass(frozen=True, slots=True)
class ConsumptionRow:
    row: int
    site_id: int
    period: ProductionPeriod
    wh: int


def sites_named(organization: Organization, codes: set[str]) -> dict[str, ConsumptionSite]:
    """The organization's sites of these IDs (upper case), by ID in upper case."""
    return {site.code.upper(): site for site in ConsumptionSite.objects.filter(organization=organization)
            .annotate(code_upper=Upper("code")).filter(code_upper__in=codes)}


def validate(records: list[tuple], organization: Organization, *,
             labels: dict[str, str] = FILE_LABELS) -> tuple[list[ConsumptionRow], list[RowError]]:
    """Every record (row number, Site ID, Interval start, Interval end, Wh: as utilities.csv_upload.read_rows
    gives them) checked against the registry as it is now: the rows, or the errors."""
    sites = sites_named(organization, {record[1].upper() for record in records if record[1]})
    now = timezone.now()
    rows, errors = [], []
    for number, code, start_text, end_text, wh_text in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, labels[column], value, message))

        site = sites.get(code.upper())
        if not code:
            refuse("Site ID", code, "Enter the site ID, as the Matching page lists it.")
        elif site is None:
            refuse("Site ID", code, f"{organization.name} has no consumption site with this ID; register it on "
                                    "the Matching page first.")
        period = reading_interval(start_text, end_text, refuse, now=now, rule=consumption_interval_refusal)
        wh = parse_wh(wh_text, what="consumption", who="any site uses")
        if isinstance(wh, str):
            refuse("Wh", wh_text, wh)
        elif site is not None and period is not None:
            rows.append(ConsumptionRow(number, site.pk, period, wh))
    errors += overlaps(rows, {site.pk: site.code for site in sites.values()}, labels)
    return ([] if errors else rows), sorted(errors, key=lambda error: error.row)


def overlaps(rows: list[ConsumptionRow], codes: dict[int, str], labels: dict[str, str]) -> list[RowError]:
    """The rows whose interval overlaps another row's of the same site, or one recorded before (the
    generators' rule, issuance.intervals.interval_overlaps)."""
    return interval_overlaps(
        rows, owner="site_id", readings=ConsumptionReading.objects, column=labels["Interval start"],
        in_file=lambda other, site_id: f"This interval overlaps row {other}'s of site {codes[site_id]}; "
                                       "report each interval once.",
        recorded=lambda site_id: f"Site {codes[site_id]} has consumption recorded already for an interval "
                                 "overlapping this one; an interval is recorded once.")
