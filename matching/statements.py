"""A matching statement's public proof and its figures: the record's SHA-256 digest (the canonical
form of a retirement's record, retirements.statements.record_digest: one definition), and the
consumption matched per hour, day and month (days and months in the registry's zone), with the
unmatched hours."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from certificates.periods import ProductionPeriod, registry_zone
from retirements.statements import CANONICAL_FORM, record_digest, verification_block
from transfers.summaries import SummaryPDF
from utilities.charts import BarChart, bar_chart
from utilities.display import datetime_text, number_text

from .models import MatchingStatement
from .values import percent_text

HOURS_CHARTED = 48  # a statement of at most two days charts each hour; a longer one each day


@dataclass(frozen=True)
class Share:
    """Consumption matched over a stretch (an hour, a day, a month)."""

    label: str
    consumption_wh: int
    matched_wh: int
    period: ProductionPeriod | None = None  # an hour's (hour_shares); None for a day's or a month's

    @property
    def percent(self) -> str:
        return percent_text(self.matched_wh, self.consumption_wh)

    @property
    def unmatched_wh(self) -> int:
        return self.consumption_wh - self.matched_wh


def statement_digest(statement: MatchingStatement) -> str:
    return record_digest(statement.record)


def statement_verification_url(statement: MatchingStatement) -> str:
    return settings.SITE_URL + reverse("matching:verify", args=[statement.reference])


def _local(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(registry_zone())


def _clock_text(moment: datetime.datetime, *, end: bool = False) -> str:
    """A local time as the unmatched hours' runs say it: "01:00", with its zone's abbreviation where the clocks
    going back make it ambiguous ("01:00 CDT", then "01:00 CST"); the midnight an hour ends at, "24:00"."""
    if end and (moment.hour, moment.minute) == (0, 0):
        return "24:00"
    ambiguous = moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()
    return f"{moment:%H:%M} {moment.tzname()}" if ambiguous else f"{moment:%H:%M}"


def hour_shares(record: dict) -> list[Share]:
    """Each hour of the record: its consumption (left open when the statement was made: earlier
    statements' matches are not this one's) and what this statement matched."""
    shares = []
    for hour in record["hours"]:
        # as every page words an hour (ProductionPeriod): a fall-back night's two one o'clocks differ. Its
        # bounds as written, with their offsets: two moments of one ZoneInfo compare by their wall clocks.
        period = ProductionPeriod(datetime.datetime.fromisoformat(hour["start"]),
                                  datetime.datetime.fromisoformat(hour["end"]))
        shares.append(Share(str(period), hour["consumption_wh"] - hour["matched_before_wh"], hour["matched_wh"],
                            period))
    return shares


def _grouped(record: dict, key) -> list[Share]:
    totals: dict[str, list[int]] = {}
    for hour in record["hours"]:
        total = totals.setdefault(key(_local(hour["start"])), [0, 0])
        total[0] += hour["consumption_wh"] - hour["matched_before_wh"]
        total[1] += hour["matched_wh"]
    return [Share(label, consumed, matched) for label, (consumed, matched) in totals.items()]


def day_shares(record: dict) -> list[Share]:
    return _grouped(record, lambda moment: f"{moment:%Y-%m-%d}")


def month_shares(record: dict) -> list[Share]:
    return _grouped(record, lambda moment: f"{moment:%m/%Y}")


def unmatched_hours(record: dict) -> list[Share]:
    """The hours this statement left short of their consumption (none matched, or part)."""
    return [share for share in hour_shares(record) if share.unmatched_wh > 0]


def statement_chart(record: dict) -> tuple[BarChart, str]:
    """The chart of the share matched: each hour for a statement of up to HOURS_CHARTED hours, else each
    day; and what its bars are. The hours of one day are labelled by when they start (`01:00 CDT`): the
    chart's labels are short, the tables under it give each hour whole."""
    hourly = len(record["hours"]) <= HOURS_CHARTED
    shares = hour_shares(record) if hourly else day_shares(record)
    one_day = hourly and len({share.period.first_day for share in shares}) == 1
    rows = [(share.period.start_clock_text if one_day else share.label,
             share.matched_wh * 1000 // share.consumption_wh if share.consumption_wh else 0, share.percent)
            for share in shares]
    return bar_chart(rows, full=1000), "hour" if hourly else "day"


def _total(record: dict) -> Share:
    return Share("Total", record["consumption_wh"] - sum(hour["matched_before_wh"] for hour in record["hours"]),
                 record["matched_wh"])


def statement_context(statement: MatchingStatement) -> dict:
    """What the statement's page and its public page show."""
    record = statement.record
    chart, charted = statement_chart(record)
    return {"statement": statement, "record": record, "digest": statement_digest(statement),
            "canonical_form": CANONICAL_FORM, "chart": chart, "charted": charted,
            "total": _total(record),
            "hour_rows": list(zip(record["hours"], hour_shares(record), strict=True)),
            "days": day_shares(record), "months": month_shares(record),
            "unmatched": unmatched_hours(record),
            "hours_matched": sum(1 for hour in record["hours"] if hour["matched_wh"]),
            "verification_url": statement_verification_url(statement)}


def unmatched_runs(record: dict) -> list[tuple[str, int, int, str]]:
    """The unmatched hours summed up by day: (day, hours short, Wh not matched, the hours as runs of
    consecutive hours in local time, "00:00–06:00, 22:00–24:00")."""
    days: dict[str, list] = {}
    for hour in record["hours"]:
        short = hour["consumption_wh"] - hour["matched_before_wh"] - hour["matched_wh"]
        if short <= 0:
            continue
        start, end = _local(hour["start"]), _local(hour["end"])
        day = days.setdefault(f"{start:%Y-%m-%d}", [0, 0, []])
        day[0], day[1] = day[0] + 1, day[1] + short
        runs = day[2]
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [(label, hours, wh, ", ".join(f"{_clock_text(first)}–{_clock_text(last, end=True)}" for first, last in runs))
            for label, (hours, wh, runs) in days.items()]


class _StatementPDF(SummaryPDF):
    """The matching statement's PDF: the retirement statement's page, fonts and footer, with tables of
    shares and a bar chart drawn as rectangles."""

    COLUMNS = (60, 100, 140, 160)  # mm from the left margin where each number column ends (label, then three)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """Rows of a label and right-aligned numbers at COLUMNS, the header repeated on each page."""
        def names():
            self.row(header, style="B")
        names()
        for row in rows:
            if self.will_page_break(self.LINE):
                self.add_page()
                names()
            self.row(row)
        self.ln(2)

    def row(self, cells: list[str], style: str = "") -> None:
        self.set_font(self.FAMILY, style, 8)
        baseline = self.y + 3.1
        self.text(self.l_margin + self.c_margin, baseline, cells[0])
        for cell, right in zip(cells[1:], self.COLUMNS[1:], strict=False):
            self.text(self.l_margin + right - self.c_margin - self.get_string_width(cell), baseline, cell)
        self.set_y(self.y + self.LINE)

    def chart(self, shares: list[Share]) -> None:
        """A bar per share, as long as the share matched (a full bar is 100%), its percentage after it."""
        label_width, bar_room = 38, 110
        for share in shares:
            if self.will_page_break(self.LINE):
                self.add_page()
            self.set_font(self.FAMILY, "", 7)
            self.text(self.l_margin, self.y + 3, share.label)
            left = self.l_margin + label_width
            self.set_fill_color(225, 225, 225)
            self.rect(left, self.y + 0.6, bar_room, self.LINE - 1.2, style="F")
            if share.consumption_wh:
                self.set_fill_color(30, 110, 60)
                self.rect(left, self.y + 0.6, bar_room * share.matched_wh / share.consumption_wh, self.LINE - 1.2,
                          style="F")
            self.text(left + bar_room + 2, self.y + 3, share.percent)
            self.set_y(self.y + self.LINE)
        self.ln(2)


def _share_rows(shares: list[Share]) -> list[list[str]]:
    return [[share.label, number_text(share.consumption_wh), number_text(share.matched_wh), share.percent]
            for share in shares]


def statement_pdf(statement: MatchingStatement) -> bytes:
    """The matching statement as a PDF: its facts and total, the share matched by day (a chart and a
    table) and by month, the unmatched hours summed up by day, every serial retired by hour, and how to
    verify it (the public page's address, the record's digest, a QR code). All of it from the record,
    so that what it prints is what the digest covers."""
    record = statement.record
    hours, total, shares = record["hours"], _total(record), hour_shares(record)
    pdf = _StatementPDF(f"Matching statement {record['reference']}")
    pdf.add_page()
    pdf.paragraph(f"{record['registry']}: matching statement", size=15, style="B", height=9)
    pdf.paragraph(f"Hourly certificates retired for {record['organization']['name']}'s consumption at site "
                  f"{record['site']['id']}, hour by hour: each hour's certificates are of that hour, and never "
                  "more than its consumption.", size=9)
    pdf.ln(2)
    site = record["site"]
    facts = [
        ("Reference", record["reference"]),
        ("Matched by", f"{record['organization']['name']} ({record['organization']['id']})"),
        ("Site", f"{site['id']} {site['name']}" + (f" (grid area {site['grid_area']})" if site["grid_area"] else "")),
        ("Matched at", datetime_text(datetime.datetime.fromisoformat(record["matched_at"]))),
        ("Hours", f"{len(hours):,}, from {_local(hours[0]['start']):%Y-%m-%d %H:%M} to "
                  f"{_local(hours[-1]['end']):%Y-%m-%d %H:%M}" if hours else "-"),
        ("Hours matched", f"{sum(1 for hour in hours if hour['matched_wh']):,} of {len(hours):,}"),
        ("Consumption matched", f"{total.percent} ({number_text(total.matched_wh)} of "
                                f"{number_text(total.consumption_wh)} Wh)"),
        ("Retirement option", record["retirement_option"]),
    ]
    pdf.set_font(pdf.FAMILY, "B", 9)
    label_width = max(pdf.get_string_width(label) + 3 for label, _ in facts)
    for label, value in facts:
        pdf.set_font(pdf.FAMILY, "B", 9)
        pdf.cell(label_width, 5, label)
        pdf.paragraph(value, size=9)
    header = ["", "Consumption (Wh)", "Matched (Wh)", "Matched"]
    days = day_shares(record)
    pdf.ln(3)
    pdf.paragraph("Share of consumption matched, by day", size=11, style="B", height=6)
    pdf.chart(days)
    pdf.table(["Day", *header[1:]], _share_rows(days))
    pdf.paragraph("By month", size=11, style="B", height=6)
    pdf.table(["Month", *header[1:]], _share_rows([*month_shares(record), total]))
    runs = unmatched_runs(record)
    pdf.paragraph("Unmatched hours", size=11, style="B", height=6)
    short = unmatched_hours(record)
    if runs:
        pdf.paragraph(f"{len(short):,} hour{'s' if len(short) != 1 else ''} of consumption not covered in full "
                      f"({number_text(sum(share.unmatched_wh for share in short))} Wh): no (or not enough) "
                      "certificates of that hour were held.", size=9)
        for day, count, wh, spans in runs:
            if pdf.will_page_break(2 * pdf.LINE):
                pdf.add_page()
            pdf.paragraph(f"{day}: {count} hour{'s' if count != 1 else ''}, {number_text(wh)} Wh not matched: {spans}",
                          size=8, height=pdf.LINE)
    else:
        pdf.paragraph("None: every hour's consumption was matched in full.", size=9)
    pdf.ln(3)
    pdf.paragraph("Certificates retired, by hour", size=11, style="B", height=6)
    pdf.quantity_right = pdf.l_margin + pdf.COLUMNS[-1]
    for hour, share in zip(hours, shares, strict=True):
        if not hour["certificates"]:
            continue
        if pdf.will_page_break(2 * pdf.LINE):
            pdf.add_page()
        pdf.line(share.label, f"{number_text(hour['matched_wh'])} Wh", style="B", plain=True)
        for certificate in hour["certificates"]:
            if pdf.will_page_break(pdf.LINE):
                pdf.add_page()
            pdf.line(f"{certificate['serial_number']} ({certificate['generator']})",
                     f"{number_text(certificate['quantity'])} Wh", indent=pdf.INDENT)
    verification_block(pdf, what="matching statement", url=statement_verification_url(statement),
                       digest=statement_digest(statement))
    return bytes(pdf.output())
