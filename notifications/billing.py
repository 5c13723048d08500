"""Billing's emails (billing.services records their events): an invoice issued, a reminder before it
is due, and its overdue notice. They go to the organization's billing contact, or to its managers
when none is named, as each chose in their email settings (registry.models.EmailEvent); an overdue
notice also goes to every manager, whatever they chose."""

from django.conf import settings
from django.urls import reverse

from billing.documents import invoice_pdf
from billing.models import Charge, Invoice
from billing.selectors import invoice_balance
from billing.values import ChargeKind, money_text
from registry.emails import emails_send, members_wanting_email, preferences_url
from registry.models import EmailEvent, Membership, User
from registry.selectors import organization_link


def invoice_readers(invoice: Invoice, email: str) -> list[User]:
    """Who is emailed of `invoice`: its organization's billing contact while they are an active member
    (if they want `email`), else its managers who want it; for an overdue notice, every manager as well."""
    organization_id = invoice.organization_id
    members = members_wanting_email([organization_id], Membership.Role.values, None).get(organization_id, [])
    wanting = {user.pk for user in members_wanting_email([organization_id], Membership.Role.values, email)
               .get(organization_id, [])}
    managers = members_wanting_email([organization_id], [Membership.Role.MANAGER], None).get(organization_id, [])
    contact = next((user for user in members if user.pk == invoice.organization.billing_contact_id), None)
    readers = [user for user in ([contact] if contact else managers) if user.pk in wanting]
    if email == EmailEvent.INVOICE_OVERDUE:
        readers += [user for user in managers if user not in readers]
    return readers


def _context(invoice: Invoice) -> dict:
    organization = invoice.organization
    tab = settings.SITE_URL + reverse("billing:billing")
    return {"invoice": invoice, "organization": organization, "registry_name": settings.REGISTRY_NAME,
            "total_text": money_text(invoice.total, invoice.currency),
            "period": invoice.period.text, "preferences_url": preferences_url(),
            "billing_url": organization_link(tab, organization),
            "pdf_url": organization_link(settings.SITE_URL + reverse("billing:invoice_pdf", args=[invoice.number]),
                                         organization)}


def _invoice(invoice_id: int) -> Invoice | None:
    return Invoice.objects.select_related("organization", "schedule").filter(pk=invoice_id).first()


def invoice_issued_email_send(*, invoice_id: int) -> int:
    """The invoice issued: its number, period, total and due date, with links to its PDF and the
    Billing tab, and the PDF attached (the Billing tab's download). Returns how many emails were sent."""
    invoice = _invoice(invoice_id)
    readers = invoice and invoice_readers(invoice, EmailEvent.INVOICE_ISSUED)
    if not readers:
        return 0
    subject = (f"[{settings.REGISTRY_NAME}] Invoice {invoice.reference} for {invoice.period.text}: "
               f"{money_text(invoice.total, invoice.currency)}, due {invoice.due_on:%Y-%m-%d}")
    return emails_send(readers, subject=subject, template="billing/email/issued", context=_context(invoice),
                       attachments=[(f"{invoice.reference}.pdf", invoice_pdf(invoice), "application/pdf")])


def invoice_due_soon_email_send(*, invoice_id: int) -> int:
    """A reminder that an unpaid invoice is due soon, with what is left to pay (nothing is sent if it
    was paid meanwhile). Returns how many emails were sent."""
    invoice = _invoice(invoice_id)
    balance = invoice and invoice_balance(invoice)
    readers = balance and balance > 0 and invoice_readers(invoice, EmailEvent.INVOICE_DUE_SOON)
    if not readers:
        return 0
    balance_text = money_text(balance, invoice.currency)
    subject = (f"[{settings.REGISTRY_NAME}] Reminder: invoice {invoice.reference} is due on {invoice.due_on:%Y-%m-%d} "
               f"({balance_text} to pay)")
    return emails_send(readers, subject=subject, template="billing/email/due_soon",
                       context={**_context(invoice), "balance_text": balance_text})


def invoice_overdue_email_send(*, invoice_id: int) -> int:
    """An invoice unpaid after its due date: what is left to pay, the late fee charged on it (on the
    next invoice) and when the organization would be inactivated. Nothing if it was paid meanwhile.
    Returns how many emails were sent."""
    invoice = _invoice(invoice_id)
    balance = invoice and invoice_balance(invoice)
    readers = balance and balance > 0 and invoice_readers(invoice, EmailEvent.INVOICE_OVERDUE)
    if not readers:
        return 0
    late_fee = Charge.objects.filter(for_invoice=invoice, kind=ChargeKind.LATE_FEE).first()
    balance_text = money_text(balance, invoice.currency)
    subject = (f"[{settings.REGISTRY_NAME}] Overdue: invoice {invoice.reference} was due on "
               f"{invoice.due_on:%Y-%m-%d} ({balance_text} to pay)")
    return emails_send(readers, subject=subject, template="billing/email/overdue", context={
        **_context(invoice), "balance_text": balance_text,
        "late_fee_text": late_fee and money_text(late_fee.amount, late_fee.currency),
        "late_fee_percent": invoice.schedule.late_fee_percent.normalize(),
        "inactivation_days": invoice.schedule.inactivation_days})
