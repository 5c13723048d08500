"""The transaction summary of a transfer, as CSV rows and as a PDF (fpdf2: pure Python)."""

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from .models import Transfer

ITEM_HEADER = ["Serial Number", "Quantity", "Generator ID", "Generator", "Fuel", "State", "Vintage",
               "Eligibilities"]


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def summary_facts(transfer: Transfer) -> list[tuple[str, str]]:
    facts = [
        ("Registry", settings.REGISTRY_NAME),
        ("Transaction ID", str(transfer.pk)),
        ("Type", transfer.get_kind_display()),
        ("Status", transfer.get_status_display()),
        ("Submitted", _when(transfer.submitted_at)),
        ("Decided", _when(transfer.decided_at) if transfer.status != Transfer.Status.PENDING else ""),
        ("From", f"{transfer.organization.name} ({transfer.organization.public_id})"),
        ("To", transfer.destination_label),
        ("Submitted by", transfer.created_by.get_full_name()),
        ("Notes", transfer.notes),
    ]
    if transfer.kind == Transfer.Kind.RETIREMENT:
        facts.append(("Retirement", f"{transfer.retirement_reason} (compliance year {transfer.compliance_year})"))
    return facts


def summary_item_rows(items) -> list[list]:
    return [
        [item.batch.serial_number, item.batch.quantity, item.batch.certificate.generator.code,
         item.batch.certificate.generator.name, item.batch.certificate.get_fuel_type_display(),
         item.batch.certificate.state, item.batch.certificate.vintage.strftime("%m/%Y"),
         "; ".join(item.batch.certificate.eligibilities)]
        for item in items
    ]


def summary_csv_rows(transfer: Transfer, items) -> list[list]:
    rows = [[label, value] for label, value in summary_facts(transfer)]
    rows.append([])
    rows.append(ITEM_HEADER)
    item_rows = summary_item_rows(items)
    rows += item_rows
    rows.append(["Total", sum(row[1] for row in item_rows)])
    return rows


def _latin1(text: str) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


def summary_pdf(transfer: Transfer, items) -> bytes:
    pdf = FPDF(orientation="L", format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _latin1(f"{settings.REGISTRY_NAME}: transaction summary"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in summary_facts(transfer):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(40, 6, _latin1(label))
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 6, _latin1(value or "-"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    item_rows = summary_item_rows(items)
    with pdf.table(col_widths=(88, 20, 20, 48, 22, 12, 16, 34), text_align="LEFT",
                   first_row_as_headings=True) as table:
        for row in [ITEM_HEADER, *item_rows]:
            cells = table.row()
            for value in row:
                cells.cell(_latin1(value))
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    total = sum(row[1] for row in item_rows)
    pdf.cell(0, 6, f"Total: {total:,} certificates in {len(item_rows)} batches", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
