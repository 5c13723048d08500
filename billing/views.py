"""The Billing tab (/organization/billing/): an organization's invoices with their status, each
one's PDF and CSV, and the charges of the current period so far. Its managers and its billing
contact (any member) read it; another organization's invoice is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from registry.models import Membership, User
from registry.selectors import membership_required
from registry.services import ServiceError, organization_set_billing
from utilities.csv_export import csv_response

from . import selectors
from .documents import CSV_HEADER, invoice_csv_rows, invoice_pdf
from .models import Invoice
from .values import money_text

CURRENT_CHARGES_SHOWN = 100


def _billing_membership(request: HttpRequest) -> Membership:
    """The current membership, if it may read the organization's billing: a manager or its billing contact."""
    membership = membership_required(request)
    if refusal := selectors.billing_reader_refusal(organization=membership.organization, user=request.user):
        raise PermissionDenied(refusal)
    return membership


def _invoice_status(invoice: Invoice, today) -> tuple[str, str]:
    """(badge status, words) of an invoice: paid, due, or overdue (selectors.invoice_status)."""
    status = selectors.invoice_status(invoice, today)
    if status == "paid":
        return "complete", "Paid"
    owed = money_text(invoice.balance, invoice.currency)
    return ("rejected", f"Overdue: {owed} owed") if status == "overdue" else ("pending", f"Due: {owed} owed")


@login_required
def billing(request: HttpRequest) -> HttpResponse:
    membership = _billing_membership(request)
    organization = membership.organization
    today = selectors.billing_today()
    invoices = list(selectors.invoices_with_balance().filter(organization=organization)
                    .order_by("-period_start", "-number"))
    for invoice in invoices:
        invoice.status_badge, invoice.status_text = _invoice_status(invoice, today)
        invoice.total_text = money_text(invoice.total, invoice.currency)
    current = selectors.charges_uninvoiced(organization)
    charges = list(current[:CURRENT_CHARGES_SHOWN])
    for charge in charges:
        charge.amount_text = money_text(charge.amount, charge.currency)
    return render(request, "billing/billing.html", {
        "invoices": invoices, "charges": charges, "charges_count": current.count(),
        "charges_total": money_text(selectors.lines_total(current)), "shown": CURRENT_CHARGES_SHOWN,
        "contact_choices": _contact_choices(organization) if membership.is_manager else None})


def _contact_choices(organization) -> list[tuple[int, str]]:
    """The members a manager may name billing contact (any member: registry.services.billing_contact_refusal)."""
    members = (Membership.objects.filter(organization=organization).select_related("user")
               .order_by("user__email"))
    return [(member.user_id, f"{member.user.email} ({member.get_role_display().lower()})") for member in members]


@login_required
@require_POST
def billing_contact(request: HttpRequest) -> HttpResponse:
    """A manager names the member the invoices go to, or none (its managers)."""
    membership = membership_required(request, manage=True)
    organization = membership.organization
    chosen = request.POST.get("contact", "")
    contact = None
    if chosen:
        contact = User.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        if contact is None:
            messages.error(request, "Choose a member of the organization as billing contact.")
            return redirect("billing:billing")
    try:
        organization_set_billing(user=request.user, organization=organization, billing_contact=contact,
                                 billing_tier=organization.billing_tier)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Invoices now go to {contact.email}." if contact
                         else f"Invoices now go to {organization.name}'s managers.")
    return redirect("billing:billing")


def _invoice_of(request: HttpRequest, number: int) -> Invoice:
    membership = _billing_membership(request)
    return get_object_or_404(selectors.invoices_of(membership.organization), number=number)


@login_required
def invoice_pdf_download(request: HttpRequest, number: int) -> HttpResponse:
    invoice = _invoice_of(request, number)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.reference}.pdf"'
    return response


@login_required
def invoice_csv_download(request: HttpRequest, number: int) -> HttpResponse:
    invoice = _invoice_of(request, number)
    return csv_response(f"{invoice.reference}.csv", CSV_HEADER, invoice_csv_rows(invoice))
