"""An invoice's documents: the PDF (drawn with the transaction summaries' PDF class, as retirement
statements are) and the CSV of the billable transactions behind it (the one CSV writer), each line
naming the domain event it charges."""

from collections.abc import Iterable

from django.conf import settings

from certificates.units import mwh_plain
from transfers.summaries import SummaryPDF
from utilities.display import date_text, datetime_text

from .models import Charge, Invoice
from .selectors import invoice_lines
from .values import money_plain, money_text, price_text


def invoice_facts(invoice: Invoice) -> list[tuple[str, str]]:
    return [("Invoice", invoice.reference),
            ("Period", invoice.period.text),
            ("Issued", date_text(invoice.issued_at)),
            ("Due", date_text(invoice.due_on)),
            ("Bill to", invoice.bill_to),
            ("Total", money_text(invoice.total, invoice.currency))]


def line_source(charge: Charge) -> str:
    """What a line charges: its domain event (kind and id), or the year, for a subscription."""
    if charge.event_id is None:
        return f"{charge.get_kind_display()} {charge.year}"
    return f"{charge.event.kind} event {charge.event_id}"


def invoice_pdf(invoice: Invoice) -> bytes:
    """The registry's name and address, the invoice's facts (bill-to, period, due date), each line
    with how it was computed and the event it charges, and the total."""
    pdf = SummaryPDF(f"{settings.REGISTRY_NAME} · {invoice.reference}")
    pdf.add_page()
    pdf.paragraph(f"{settings.REGISTRY_NAME}: invoice {invoice.reference}", size=15, style="B", height=9)
    if settings.REGISTRY_ADDRESS:
        pdf.paragraph(settings.REGISTRY_ADDRESS.replace("; ", "\n"), size=9)
    pdf.ln(2)
    for label, value in invoice_facts(invoice):
        pdf.set_font(pdf.FAMILY, "B", 9)
        pdf.cell(28, 5, label)
        pdf.paragraph(value or "-", size=9)
    pdf.ln(3)
    pdf.line("Line", "Amount", style="B")
    for charge in invoice_lines(invoice).iterator(chunk_size=2000):
        pdf.line(f"{date_text(charge.occurred_at)}  {charge.description}  ({line_source(charge)})",
                 money_text(charge.amount, charge.currency))
    pdf.ln(1)
    pdf.line("Total", money_text(invoice.total, invoice.currency), style="B")
    return bytes(pdf.output())


CSV_HEADER = ["Invoice", "Happened", "Kind", "Description", "MWh", "Free MWh", "Unit price", "Amount", "Currency",
              "Domain event", "Event kind"]


def invoice_csv_rows(invoice: Invoice) -> Iterable[list]:
    for charge in invoice_lines(invoice).iterator(chunk_size=2000):
        yield [invoice.reference, datetime_text(charge.occurred_at), charge.get_kind_display(), charge.description,
               mwh_plain(charge.quantity), mwh_plain(charge.free_quantity),
               price_text(charge.unit_price, charge.currency) if charge.unit_price is not None else "",
               money_plain(charge.amount, charge.currency), charge.currency,
               charge.event_id or "", charge.event.kind if charge.event_id else ""]
