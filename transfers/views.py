from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from certificates.models import CertificateBatch
from certificates.selectors import batches_filtered, selection_batches, selection_ids
from certificates.serials import format_serial
from registry.models import Organization
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.csv_export import csv_response
from utilities.display import datetime_text
from utilities.filters import download_refused
from utilities.htmx import htmx_partial
from utilities.throttle import throttled

from . import mass
from .forms import AcceptForm, AnnualReportForm, DecisionForm, MassUploadForm, cannot_accept_reason
from .models import MassTransferUpload, Transfer
from .selectors import (
    AnnualRetirementReport,
    retirement_by_reference,
    retirement_options_offered,
    retirement_report,
    retirement_years,
    retirements_filtered,
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
    mass_upload_create,
    mass_upload_release,
    retirement_privacy_set,
    transfer_accept,
    transfer_reject,
    transfer_withdraw,
)
from .statements import (
    CANONICAL_FORM,
    record_digest,
    retirement_record,
    statement_facts,
    statement_pdf,
    verification_record,
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
                messages.success(request, f"Transfer {transfer.pk} accepted into "
                                          f"{form.cleaned_data['account'].public_id}.")
            elif decision == "reject":
                transfer_reject(transfer=transfer, user=request.user, organization=organization,
                                note=form.cleaned_data["note"])
                messages.success(request, f"Transfer {transfer.pk} rejected; the certificates went back "
                                          "to the sender.")
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


@login_required
@require_POST
def retirement_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a retirement private (its verification page then says only that it is valid) or public."""
    membership = membership_required(request, act=True)
    transfer = transfer_for_organization(pk=pk, organization=membership.organization)
    if not hasattr(transfer, "retirement") or transfer.organization_id != membership.organization_id:
        raise Http404("No such retirement.")
    private = request.POST.get("private") == "1"
    retirement_privacy_set(organization=membership.organization, user=request.user,
                           retirement=transfer.retirement, private=private)
    messages.success(request, "The verification page now shows only that this retirement is valid." if private
                     else "The verification page now shows this retirement's details.")
    return redirect("transfers:detail", pk=transfer.pk)


@login_required
def retirement_statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A retirement's statement: its record, digest, and the verification page's address and QR code."""
    transfer = _summary_subject(request, pk)
    if transfer.kind != Transfer.Kind.RETIREMENT or not hasattr(transfer, "retirement"):
        raise Http404("Only a retirement has a retirement statement.")
    response = HttpResponse(statement_pdf(transfer.retirement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="retirement-{transfer.retirement.reference}.pdf"'
    return response


def _verified(request: HttpRequest, reference: str):
    """The retirement a public reference names, for anyone; a 404 for any other text, and a 429 for
    an address asking too often (answered before the database is read)."""
    if throttled(request, scope="verify", limit=settings.VERIFY_REQUESTS_PER_MINUTE):
        return None, HttpResponse("Too many requests from your address; try again in a minute.", status=429,
                                  content_type="text/plain; charset=utf-8", headers={"Retry-After": "60"})
    retirement = retirement_by_reference(reference)
    if retirement is None:
        raise Http404("No retirement has this reference.")
    return retirement, None


def retirement_verify(request: HttpRequest, reference: str) -> HttpResponse:
    """Public, no sign-in: one retirement's record and its digest, or for a private one only that
    the reference is valid."""
    retirement, refusal = _verified(request, reference)
    if refusal:
        return refusal
    context = {"reference": retirement.reference, "private": retirement.is_private,
               "json_url": reverse("retirement_verify_json", args=[retirement.reference])}
    if not retirement.is_private:
        record = retirement_record(retirement)
        context |= {"record": record, "digest": record_digest(record), "canonical_form": CANONICAL_FORM,
                    "facts": statement_facts(record)}
    return render(request, "transfers/verify.html", context)


def retirement_verify_json(request: HttpRequest, reference: str) -> HttpResponse:
    retirement, refusal = _verified(request, reference)
    if refusal:
        return refusal
    return JsonResponse(verification_record(retirement), json_dumps_params={"ensure_ascii": False})


def _upload_for(request: HttpRequest, pk: int) -> MassTransferUpload:
    membership = membership_required(request)
    upload = MassTransferUpload.objects.filter(pk=pk, organization=membership.organization).first()
    if upload is None:
        raise Http404("No such upload.")
    return upload


@login_required
def mass_transfers(request: HttpRequest) -> HttpResponse:
    """The template, the upload form, and the organization's past uploads."""
    membership = membership_required(request)
    form = MassUploadForm()
    if request.method == "POST":
        membership_required(request, act=True)
        form = MassUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = mass_upload_create(organization=membership.organization, user=request.user,
                                            upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"])
            except ServiceError as error:
                form.add_error("file", str(error))
            else:
                return redirect("transfers:mass_detail", pk=upload.pk)
    uploads = (MassTransferUpload.objects.filter(organization=membership.organization)
               .select_related("uploaded_by").annotate(made_count=Count("transfers"))[:50])
    return render(request, "transfers/mass.html", {
        "form": form, "uploads": uploads, "can_act": membership.can_transfer,
        "retirement_options": retirement_options_offered().values_list("name", flat=True),
        "role_note": membership.read_only_note(may="upload mass transfers")})


@login_required
def mass_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_for(request, pk)
    membership = request.membership
    if request.method == "POST":
        membership_required(request, act=True)
        try:
            mass_upload_release(upload=upload, user=request.user, process=request.POST.get("action") == "process")
        except ServiceError as error:
            messages.error(request, str(error))
        return redirect("transfers:mass_detail", pk=upload.pk)
    transfers = upload.transfers.select_related("recipient_organization", "destination_account").annotate(
        total_quantity=Sum("items__batch__quantity")).order_by("pk")
    duplicate_of = None
    if upload.status == MassTransferUpload.Status.HELD:
        duplicate_of = (MassTransferUpload.objects.filter(organization=upload.organization, sha256=upload.sha256)
                        .exclude(pk=upload.pk).order_by("-created_at").first())
    template = "transfers/mass_detail.html#status" if htmx_partial(request) else "transfers/mass_detail.html"
    return render(request, template, {"upload": upload, "transfers": transfers, "duplicate_of": duplicate_of,
                                      "can_act": membership.can_transfer,
                                      "role_note": membership.read_only_note(may="process or discard it"),
                                      "max_attempts": settings.MASS_UPLOAD_MAX_ATTEMPTS})


@login_required
def mass_template(request: HttpRequest) -> HttpResponse:
    """The Mass Certificate Transfers Template: the header row, columns A to E."""
    membership_required(request)
    return csv_response("mass-certificate-transfers-template.csv", mass.COLUMNS, [])


@login_required
def mass_retirement_template(request: HttpRequest) -> HttpResponse:
    """The Mass Certificate Retirements Template: the header row, columns A to I."""
    membership_required(request)
    return csv_response("mass-certificate-retirements-template.csv", mass.RETIREMENT_COLUMNS, [])


TRANSACTIONS_PER_PAGE = 50


@login_required
def mass_template_prefilled(request: HttpRequest) -> HttpResponse:
    """The mass-transfer template pre-filled from the dashboard: the selection (?selection=1) or the
    Active tab's current filter, as serial numbers and full quantities, destinations left blank."""
    membership = membership_required(request)
    if request.GET.get("selection"):
        queryset = selection_batches(membership.organization, selection_ids(request))
    else:
        batch_filter, queryset, _ = batches_filtered(request.GET, membership.organization,
                                                     CertificateBatch.Status.ACTIVE)
        if refused := download_refused(batch_filter):
            return refused
    rows = ([format_serial(base, start, end), quantity, "", "", ""] for base, start, end, quantity in
            queryset.values_list("certificate__serial_base", "serial_start", "serial_end", "quantity")
            .iterator(chunk_size=5000))
    return csv_response("mass-certificate-transfers.csv", mass.COLUMNS, rows)


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


RETIREMENT_COLUMNS = [("reference", "Reference"), ("date", "Retired"), ("option", "Counts toward"),
                      ("period", "Compliance period"), (None, "Reporting period"), ("beneficiary", "Beneficiary"),
                      ("quantity", "Quantity"), (None, "Account")]
RETIREMENTS_CSV_HEADER = ["Reference", "Transaction ID", "Retired", "Counts toward", "Option type", "Main reason",
                          "State or province", "Compliance period", "Period start", "Period end", "Beneficiary",
                          "Quantity", "Retirement Account ID", "Notes"]


def dashboard_retired_tab(request: HttpRequest, organization: Organization) -> dict:
    """The dashboard's Retired tab: the organization's retirements with their details, filtered,
    sorted and paged as the query string says."""
    retirement_filter, retirements, sort = retirements_filtered(request.GET, organization)
    page = Paginator(retirements, TRANSACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {"filter": retirement_filter, "page": page, "sort": sort, "columns": RETIREMENT_COLUMNS}


@login_required
def retirements_csv(request: HttpRequest) -> HttpResponse:
    """The Retired tab's current filter and sort as CSV, streamed at any size."""
    membership = membership_required(request)
    retirement_filter, retirements, _ = retirements_filtered(request.GET, membership.organization)
    if refused := download_refused(retirement_filter):
        return refused
    rows = ([retirement.reference, retirement.transfer_id,
             datetime_text(retirement.transfer.submitted_at),
             retirement.option.name, retirement.option.get_type_display(), retirement.option.get_reason_display(),
             retirement.option.state, retirement.compliance_period or "", retirement.period_start or "",
             retirement.period_end or "", retirement.beneficiary, retirement.total_quantity,
             retirement.transfer.destination_account.public_id, retirement.transfer.notes]
            for retirement in retirements.iterator(chunk_size=2000))
    return csv_response("retirements.csv", RETIREMENTS_CSV_HEADER, rows)


def _annual_report(request: HttpRequest, organization: Organization,
                   ) -> tuple[AnnualReportForm, AnnualRetirementReport | None]:
    """The year the query string asks for (last year by default) and the organization's report of it,
    or None when the year is not one."""
    form = AnnualReportForm(request.GET, default=timezone.localdate().year - 1)
    return form, retirement_report(organization, form.cleaned_data["year"]) if form.is_valid() else None


@login_required
def retirement_annual_report(request: HttpRequest) -> HttpResponse:
    """The annual retirement report: the organization's retirements of a year by option, compliance
    period and state or province, with totals, for filing with a regulator. Any member may read it."""
    organization = membership_required(request).organization
    form, report = _annual_report(request, organization)
    shown_years = {*retirement_years(organization), form.default, report.year if report else None}
    return render(request, "transfers/annual_report.html", {
        "form": form, "report": report, "years": sorted((year for year in shown_years if year), reverse=True)})


ANNUAL_REPORT_CSV_HEADER = ["Year", "Counts toward", "Option type", "Main reason", "State or province",
                            "Compliance period", "Retirements", "Quantity"]


@login_required
def retirement_annual_report_csv(request: HttpRequest) -> HttpResponse:
    """The annual retirement report's rows and totals as CSV, as the page shows them."""
    form, report = _annual_report(request, membership_required(request).organization)
    if report is None:
        return HttpResponseBadRequest("Nothing was downloaded: correct the year first.\nYear: "
                                      + " ".join(form.errors["year"]), content_type="text/plain; charset=utf-8")
    rows = [[report.year, row["option_name"], row["option_type"], row["option_reason"], row["state"],
             row["compliance_period"] or "", row["retirement_count"], row["quantity"]] for row in report.rows]
    rows.append([report.year, "Total", "", "", "", "", report.retirement_count, report.quantity])
    return csv_response(f"retirements-{report.year}.csv", ANNUAL_REPORT_CSV_HEADER, rows)


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
