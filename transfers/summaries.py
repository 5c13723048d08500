"""The transaction summary of a transfer, as CSV rows and as a PDF (fpdf2: pure Python).

Both list the transfer's batches in one order: by vintage, then certificate, then serial. The PDF
groups them by certificate (an issuance: one generator, one vintage month), so each batch is a
line of serial number and quantity under its certificate's heading. Drawing a line with two
`text()` calls instead of eight cells of an fpdf2 table is what lets a 20,000-batch summary
download in 1.3-2.3 s on the shared 2-core VM, where the table took 50-97 s (bench/summary_pdf.py).
"""

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import pluralize
from django.utils import timezone
from fpdf import FPDF

from certificates.models import FuelType, origin_text
from certificates.periods import period_shown
from certificates.serials import format_serial
from utilities.display import datetime_text, number_text

from .models import Transfer, TransferItem
from .selectors import transfer_items, transfer_source_accounts

ITEM_HEADER = ["Serial Number", "Quantity", "Generator ID", "Generator", "Fuel", "State", "Vintage",
               "Eligibilities"]

FONT_DIRECTORY = settings.BASE_DIR / "static" / "fonts"  # their licences and coverage: README.md there

# fontTools logs each font it subsets for a PDF, glyph by glyph, at INFO: dozens of lines a download.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def summary_facts(transfer: Transfer) -> list[tuple[str, str]]:
    sources = transfer_source_accounts(transfer)
    facts = [
        ("Registry", settings.REGISTRY_NAME),
        ("Transaction ID", str(transfer.pk)),
        ("Type", transfer.get_kind_display()),
        ("Status", transfer.get_status_display()),
        ("Submitted", datetime_text(transfer.submitted_at)),
        ("Decided", datetime_text(transfer.decided_at) if transfer.status != Transfer.Status.PENDING else ""),
        ("Time zone", timezone.get_current_timezone_name()),  # the downloading user's
        ("From", f"{transfer.organization.name} ({transfer.organization.public_id})"),
        (f"From account{pluralize(sources)}", ", ".join(str(account) for account in sources)),
        ("To", transfer.destination_label),
        ("Submitted by", transfer.created_by.get_full_name()),
        ("Notes", transfer.notes),
    ]
    if transfer.decision_note:  # the recipient's reason for rejecting, or registry staff's note on an export
        facts.append((transfer.decision_note_label, transfer.decision_note))
    if transfer.kind == Transfer.Kind.RETIREMENT and hasattr(transfer, "retirement"):
        facts += transfer.retirement.facts()
    return facts


@dataclass(frozen=True)
class SummaryCertificate:
    """What the batches of one certificate share: a heading in the PDF, repeated columns in the CSV."""

    generator_code: str
    generator_name: str
    fuel: str
    state: str
    vintage: str
    eligibilities: str
    origin: str = ""  # an imported certificate's (certificates.models.origin_text); "" for one issued here
    tracking_system: str = ""
    original_serial: str = ""


SUMMARY_ORDER = ("batch__certificate__period", "batch__certificate__generator__code", "batch__certificate_id",
                 "batch__serial_start")
_SUMMARY_COLUMNS = (
    "batch__certificate_id", "batch__certificate__serial_base", "batch__serial_start", "batch__serial_end",
    "batch__quantity", "batch__certificate__generator__code", "batch__certificate__generator__name",
    "batch__certificate__fuel_type", "batch__certificate__state", "batch__certificate__period",
    "batch__certificate__eligibilities", "batch__certificate__imported_from__name",
    "batch__certificate__original_serial",
)


def _summary_rows(items, *, chunk_size: int = 5000) -> Iterator[tuple[int, SummaryCertificate, str, int]]:
    """(transfer id, certificate, serial number, quantity) of each of `items` (TransferItems, in order)."""
    certificates = {}
    rows = items.values_list("transfer_id", *_SUMMARY_COLUMNS).iterator(chunk_size=chunk_size)
    for transfer_id, certificate_id, serial_base, start, end, quantity, *shared in rows:
        certificate = certificates.get(certificate_id)
        if certificate is None:
            code, name, fuel, state, period, eligibilities, source, original = shared
            certificate = certificates[certificate_id] = SummaryCertificate(
                code, name, FuelType(fuel).label, state, period.data_text, "; ".join(eligibilities),
                origin_text(source, original) if source else "", source or "", original)
        yield transfer_id, certificate, format_serial(serial_base, start, end), quantity


def summary_batches(transfer: Transfer) -> Iterator[tuple[SummaryCertificate, str, int]]:
    """(certificate, serial number, quantity) of each batch of the transfer, in the summary's order,
    read in chunks (memory stays flat for the streamed CSV)."""
    for _, certificate, serial_number, quantity in _summary_rows(transfer_items(transfer).order_by(*SUMMARY_ORDER)):
        yield certificate, serial_number, quantity


def summary_batches_of(transfer_ids: list[int]) -> dict[int, list[tuple[SummaryCertificate, str, int]]]:
    """summary_batches of each of several transfers, in one query (the public log's records of a batch
    of retirements: bench/publiclog.py)."""
    batches: dict[int, list] = {transfer_id: [] for transfer_id in transfer_ids}
    items = TransferItem.objects.filter(transfer_id__in=transfer_ids).order_by("transfer_id", *SUMMARY_ORDER)
    for transfer_id, certificate, serial_number, quantity in _summary_rows(items):
        batches[transfer_id].append((certificate, serial_number, quantity))
    return batches


def summary_item_rows(transfer: Transfer) -> Iterator[list]:
    """One row per batch, in the columns of ITEM_HEADER."""
    for certificate, serial_number, quantity in summary_batches(transfer):
        yield [serial_number, quantity, certificate.generator_code, certificate.generator_name, certificate.fuel,
               certificate.state, certificate.vintage, certificate.eligibilities]


def summary_csv_rows(transfer: Transfer) -> Iterator[list]:
    """The facts, then a header and one row per batch, then the total; streamed."""
    for label, value in summary_facts(transfer):
        yield [label, value]
    yield []
    yield ITEM_HEADER
    total = 0
    for row in summary_item_rows(transfer):
        total += row[1]
        yield row
    yield ["Total", total]


def _certificates_in_batches(quantity: int, batches: int) -> str:
    """`45,855 certificates in 1 batch`: numbers written as the pages write them."""
    return (f"{number_text(quantity)} certificate{pluralize(quantity)} in "
            f"{number_text(batches)} batch{pluralize(batches, 'es')}")


class SummaryTooLarge(Exception):
    """A transfer with more batches than a PDF summary lists; its CSV summary lists them all."""


class SummaryPDF(FPDF):
    """Letter, portrait; DejaVu Sans, with Droid Sans Fallback loaded only for a summary that has
    characters DejaVu Sans lacks (Chinese, Japanese, Korean): parsing it costs about half a second."""

    FAMILY, FALLBACK = "DejaVuSans", "DroidSansFallback"
    LINE = 4.2  # mm: a line of the batch list, at 8 pt
    INDENT = 4  # mm: a batch's line under its certificate's

    def __init__(self, footer: str):
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.footer_text = footer
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.add_font(self.FAMILY, "", FONT_DIRECTORY / "DejaVuSans.ttf")
        self.add_font(self.FAMILY, "B", FONT_DIRECTORY / "DejaVuSans-Bold.ttf")
        self.covered = frozenset(self.fonts[self.FAMILY.lower()].cmap)
        self.has_fallback = False
        self.quantity_right = self.w - self.r_margin  # where the Quantity column ends
        self.widths = {}  # (style, text): width, for the quantities a long list repeats
        self.alias_nb_pages("{pages}")  # room for up to seven digits, where "{nb}" leaves three

    def prepare_for(self, text: str) -> bool:
        """True when DejaVu Sans draws every character of `text`; otherwise loads the fallback font."""
        if self.covered.issuperset(map(ord, text)):
            return True
        if not self.has_fallback:
            self.add_font(self.FALLBACK, "", FONT_DIRECTORY / "DroidSansFallback.ttf")
            self.has_fallback = True
        return False

    @contextmanager
    def fallback(self):
        """The fallback font for what is drawn inside. Only there: with fallback fonts set, fpdf2
        measures and splits all text a character at a time, several times slower."""
        self.set_fallback_fonts([self.FALLBACK], exact_match=False)
        try:
            yield
        finally:
            self.set_fallback_fonts([])

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.FAMILY, size=7)
        self.cell(0, 4, f"{self.footer_text} · page {self.page_no()} of {{pages}}", align="R")

    def paragraph(self, text: str, size: float, style: str = "", height: float = 5) -> None:
        """Text that wraps, in any script."""
        self.set_font(self.FAMILY, style, size)
        if self.prepare_for(text):
            self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
        else:
            with self.fallback():
                self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def line(self, left: str, right: str = "", *, style: str = "", indent: float = 0, plain: bool = False) -> None:
        """One line of the batch list at 8 pt: `left` from the margin (plus `indent`), `right` ending
        at the Quantity column's edge. `text()` draws at a baseline with no cell box, wrapping or
        fallback lookup: that is what makes 20,000 lines fast. `plain`: the caller knows DejaVu
        Sans draws all of `left`."""
        if self.font_style != style or self.font_size_pt != 8:
            self.set_font(self.FAMILY, style, 8)
        baseline = self.y + 3.1
        if plain or self.prepare_for(left):
            # Where a cell would start its text, so these lines align with the wrapped ones.
            self.text(self.l_margin + indent + self.c_margin, baseline, left)
        else:
            self.set_x(self.l_margin + indent)
            with self.fallback():
                self.cell(self.quantity_right - self.x, self.LINE, left)
        if right:
            width = self.widths.get((style, right))
            if width is None:
                width = self.widths[style, right] = self.get_string_width(right)
            self.text(self.quantity_right - self.c_margin - width, baseline, right)
        self.set_y(self.y + self.LINE)

    def column_names(self) -> None:
        self.line("Serial Number", "Quantity", style="B", indent=self.INDENT, plain=True)

    def heading(self, text: str) -> None:
        """A certificate's line above its batches: bold, wrapped when it is too long for one line."""
        self.set_font(self.FAMILY, "B", 8)
        if self.prepare_for(text) and self.get_string_width(text) < self.epw:
            self.line(text, style="B", plain=True)
        else:
            self.paragraph(text, size=8, style="B", height=self.LINE)


# The largest PDF summary: 50,000 batches, the most one mass upload can move by default. On the
# 2-core VM under load, 50,000 batches took 2.5-6 s (bench/summary_pdf.py), and 6-14 s when every
# batch was of a certificate of its own (a heading each): inside gunicorn's 30 s timeout. A larger
# transfer, possible only where an operator raised MASS_TRANSFER_MAX_ROWS, gets its CSV instead.
PDF_MAX_BATCHES = 50_000


def summary_pdf(transfer: Transfer) -> bytes:
    count = transfer.items.count()
    if count > PDF_MAX_BATCHES:
        raise SummaryTooLarge(
            f"Transfer {transfer.pk} has {number_text(count)} batches, too many for a PDF summary (at most "
            f"{number_text(PDF_MAX_BATCHES)}). Download the CSV summary: it lists every batch.")
    batches = list(summary_batches(transfer))
    pdf = summary_document(title=f"{settings.REGISTRY_NAME}: transaction summary", footer=f"Transaction {transfer.pk}",
                           facts=summary_facts(transfer), batches=batches)
    return bytes(pdf.output())


def summary_document(*, title: str, footer: str, facts: list[tuple[str, str]],
                     batches: list[tuple[SummaryCertificate, str, int]]) -> SummaryPDF:
    """A PDF of `facts` and then every batch under its certificate's heading, with the total: a
    transaction summary, or a retirement statement (which draws more after it)."""
    total = sum(quantity for _, _, quantity in batches)
    pdf = SummaryPDF(footer)
    pdf.add_page()
    pdf.paragraph(title, size=15, style="B", height=9)
    pdf.ln(1)
    facts = [*facts, ("Quantity", _certificates_in_batches(total, len(batches)))]
    pdf.set_font(pdf.FAMILY, "B", 9)
    label_width = max(32, *(pdf.get_string_width(label) + 3 for label, _ in facts))  # the longest label fits
    for label, value in facts:
        pdf.set_font(pdf.FAMILY, "B", 9)
        pdf.cell(label_width, 5, label)
        pdf.paragraph(value or "-", size=9)
    pdf.ln(3)
    # The Quantity column ends a little after the longest serial number, for the eye to follow a line.
    pdf.set_font(pdf.FAMILY, "", 8)
    longest = max((serial_number for _, serial_number, _ in batches), key=len, default="")
    pdf.quantity_right = min(pdf.w - pdf.r_margin,
                             pdf.l_margin + pdf.INDENT + max(100, pdf.get_string_width(longest) + 30))
    pdf.column_names()

    written = {}  # a quantity as the pages write it, worked out once
    for certificate, lines in itertools.groupby(batches, key=lambda batch: batch[0]):
        heading = (f"{certificate.generator_code} {certificate.generator_name} · {certificate.fuel} · "
                   f"{certificate.state} · vintage {period_shown(certificate.vintage)} · "
                   f"eligibilities {certificate.eligibilities or 'none'}"
                   + (f" · {certificate.origin}" if certificate.origin else ""))
        if pdf.will_page_break(3 * pdf.LINE):
            pdf.add_page()
            pdf.column_names()
        pdf.ln(1)
        pdf.heading(heading)
        plain = None
        for _, serial_number, quantity in lines:
            if plain is None:  # the serial base is the certificate's; the rest of a serial number is digits
                plain = pdf.prepare_for(serial_number)
            if pdf.will_page_break(pdf.LINE):
                # Each page repeats the column names and the certificate its first batches are of.
                pdf.add_page()
                pdf.column_names()
                pdf.heading(f"{heading} (continued)")
            if quantity not in written:
                written[quantity] = number_text(quantity)
            pdf.line(serial_number, written[quantity], indent=pdf.INDENT, plain=plain)
    pdf.ln(3)
    pdf.paragraph(f"Total: {_certificates_in_batches(total, len(batches))}", size=10, style="B", height=6)
    return pdf
