from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from registry.models import Organization
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.csv_export import csv_response
from utilities.display import datetime_text
from utilities.filters import download_refused

from .forms import AcceptForm, DecisionForm, cannot_accept_reason
from .models import Transfer
from .selectors import (
    transactions_filtered,
    transfer_decision_refused,
    transfer_decisions,
    transfer_for_organization,
    transfer_history,
    transfer_items,
    transfer_source_accounts,
    transfers_pending_for,
)
from .services import (
    transfer_accept,
    transfer_reject,
    transfer_withdraw,
)
from .summaries import SummaryTooLarge, summary_csv_rows, summary_pdf

TRANSFER_ITEMS_PER_PAGE = 200


def _actions(transfer: Transfer, membership) -> dict:
    """Which decisions the current user may take on this transfer (transfer_decisions, and the
    member's role), and, for a read-only role, why none."""
    decisions = transfer_decisions(transfer, organization_id=membership.organization_id)
    pending = transfer.status == Transfer.Status.PENDING and transfer.kind == Transfer.Kind.ORGANIZATION
    return {
        **{f"can_{decision}": membership.can_transfer and refusal is None for decision, refusal in decisions.items()},
        "role_note": (membership.read_only_note(may="accept, reject or withdraw a pending transfer")
                      if pending and not membership.can_transfer else None),
    }


@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_required(request)
    transfer = transfer_for_organization(pk=pk, organization=membership.organization)
    items = transfer_items(transfer)
    totals = items.aggregate(batches=Count("pk"), quantity=Sum("batch__quantity"))
    # A mass transfer has up to 50,000 batches: the page shows them a page at a time (the summary
    # lists them all), so it answers at once whatever the size.
    page = Paginator(items, TRANSFER_ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    page.paginator.count = totals["batches"]
    actions = _actions(transfer, membership)
    return render(request, "transfers/detail.html", {
        "transfer": transfer, "page": page, "history": transfer_history(transfer),
        "total_quantity": totals["quantity"] or 0, "batch_count": totals["batches"],
        "incoming": transfer.recipient_organization_id == membership.organization_id,
        "source_accounts": transfer_source_accounts(transfer),
        "cannot_receive": cannot_accept_reason(membership.organization) if actions["can_accept"] else "",
        "retirement_facts": transfer.retirement.facts() if hasattr(transfer, "retirement") else [],
        "can_change_privacy": membership.can_transfer,
        **actions,
    })


def _decision_refused(transfer: Transfer, membership, decision: str) -> str:
    """Why this user cannot take this decision, in the words a user acts on: the services' refusal,
    or the member's role."""
    if refusal := transfer_decision_refused(transfer, organization_id=membership.organization_id, decision=decision):
        return str(refusal)
    return f"Your role ({membership.get_role_display().lower()}) cannot accept, reject or withdraw transfers."


def _decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """A confirmation page (GET) and the decision itself (POST), through the transfer services."""
    membership = membership_required(request)
    transfer = transfer_for_organization(pk=pk, organization=membership.organization)
    membership_required(request, act=True)
    organization = membership.organization
    if not _actions(transfer, membership)[f"can_{decision}"]:
        messages.error(request, _decision_refused(transfer, membership, decision))
        return redirect("transfers:detail", pk=transfer.pk)
    data = request.POST if request.method == "POST" else None
    form = AcceptForm(data, organization=organization) if decision == "accept" else DecisionForm(data)
    if request.method == "POST" and form.is_valid():
        try:
            if decision == "accept":
                transfer_accept(transfer=transfer, user=request.user, organization=organization,
                                account=form.cleaned_data["account"])
                messages.success(request, f"{transfer.noun} {transfer.pk} accepted into "
                                          f"{form.cleaned_data['account'].public_id}.")
            elif decision == "reject":
                transfer_reject(transfer=transfer, user=request.user, organization=organization,
                                note=form.cleaned_data["note"])
                messages.success(request, f"Import {transfer.pk} rejected; its certificates were voided and "
                                          f"registry staff will return them to {transfer.tracking_system.name}."
                                 if transfer.kind == transfer.Kind.IMPORT else
                                 f"Transfer {transfer.pk} rejected; the certificates went back to the sender.")
            else:
                transfer_withdraw(transfer=transfer, user=request.user, organization=organization)
                messages.success(request, f"Transfer {transfer.pk} withdrawn; the certificates are active "
                                          "in your account again.")
        except ServiceError as error:
            messages.error(request, str(error))
        return redirect("transfers:detail", pk=transfer.pk)
    items = transfer_items(transfer)
    totals = items.aggregate(batches=Count("pk"), quantity=Sum("batch__quantity"))
    return render(request, "transfers/decide.html", {
        "transfer": transfer, "items": items[:TRANSFER_ITEMS_PER_PAGE], "form": form, "decision": decision,
        "total_quantity": totals["quantity"] or 0, "batch_count": totals["batches"],
        "source_accounts": transfer_source_accounts(transfer),
        "cannot_receive": getattr(form, "cannot_receive", ""),
    })


@login_required
def transfer_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "accept")


@login_required
def transfer_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "reject")


@login_required
def transfer_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "withdraw")


def _summary_subject(request: HttpRequest, pk: int):
    membership = membership_required(request)
    transfer = transfer_for_organization(pk=pk, organization=membership.organization)
    if transfer.status == Transfer.Status.DRAFT:
        raise Http404("A draft has no transaction summary yet.")
    return transfer


@login_required
def transfer_summary_csv(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _summary_subject(request, pk)
    rows = summary_csv_rows(transfer)
    return csv_response(f"transaction-{transfer.pk}.csv", next(rows), rows)


@login_required
def transfer_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _summary_subject(request, pk)
    try:
        content = summary_pdf(transfer)
    except SummaryTooLarge as refusal:
        messages.error(request, str(refusal))
        return redirect("transfers:detail", pk=transfer.pk)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="transaction-{transfer.pk}.pdf"'
    return response


TRANSACTIONS_PER_PAGE = 50


def dashboard_pending_tab(request: HttpRequest, organization: Organization) -> dict:
    """The dashboard's Pending tab: transfers waiting for us, and ours waiting for others."""
    incoming, outgoing = transfers_pending_for(organization)
    return {"incoming": incoming, "outgoing": outgoing,
            "cannot_receive": cannot_accept_reason(organization) if incoming else ""}


# The Transactions tab's columns, in order: (the sort key, the heading); the CSV has the same.
TRANSACTION_COLUMNS = [("id", "Transaction"), ("date", "Submitted"), ("kind", "Type"), ("status", "Status"),
                       ("quantity", "Quantity"), ("counterparty", "Counterparty"), (None, "Notes")]
TRANSACTIONS_CSV_HEADER = ["Transaction ID", "Submitted", "Type", "Status", "Quantity", "Counterparty", "Notes"]


def dashboard_transactions_tab(request: HttpRequest, organization: Organization) -> dict:
    """The dashboard's Transactions tab: the organization's transactions, filtered, sorted and paged
    as the query string says."""
    transaction_filter, transfers, sort = transactions_filtered(request.GET, organization)
    page = Paginator(transfers, TRANSACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {"filter": transaction_filter, "page": page, "sort": sort, "columns": TRANSACTION_COLUMNS}


@login_required
def transactions_csv(request: HttpRequest) -> HttpResponse:
    """The Transactions tab's current filter and sort as CSV, streamed at any size."""
    membership = membership_required(request)
    organization = membership.organization
    transaction_filter, transfers, _ = transactions_filtered(request.GET, organization)
    if refused := download_refused(transaction_filter):
        return refused
    rows = ([transfer.pk, datetime_text(transfer.submitted_at),
             transfer.get_kind_display(), transfer.get_status_display(), transfer.total_quantity,
             transfer.counterparty_label(organization), transfer.notes]
            for transfer in transfers.iterator(chunk_size=2000))
    return csv_response("transactions.csv", TRANSACTIONS_CSV_HEADER, rows)
