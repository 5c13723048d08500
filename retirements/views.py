"""The retirements' pages: a retirement's privacy and statement, the public verification page and
its JSON, the dashboard's Retired tab and its CSV, the annual report."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from certificates.units import mwh_plain
from registry.models import Organization
from registry.selectors import membership_required
from transfers.models import Transfer
from transfers.selectors import transfer_for_organization
from transfers.views import TRANSACTIONS_PER_PAGE
from utilities.csv_export import csv_response
from utilities.display import datetime_text
from utilities.filters import download_refused
from utilities.throttle import public_page_refused

from .forms import AnnualReportForm
from .proofs import retirement_log_proof
from .selectors import (
    AnnualRetirementReport,
    retirement_by_reference,
    retirement_report,
    retirement_years,
    retirements_filtered,
)
from .services import retirement_privacy_set
from .statements import (
    CANONICAL_FORM,
    record_digest,
    retirement_record,
    statement_facts,
    statement_pdf,
    verification_record,
)


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
    transfer = transfer_for_organization(pk=pk, organization=membership_required(request).organization)
    if transfer.kind != Transfer.Kind.RETIREMENT or not hasattr(transfer, "retirement"):
        raise Http404("Only a retirement has a retirement statement.")
    response = HttpResponse(statement_pdf(transfer.retirement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="retirement-{transfer.retirement.reference}.pdf"'
    return response


def _verified(request: HttpRequest, reference: str):
    """The retirement a public reference names, for anyone; a 404 for any other text, and a 429 for
    an address asking too often (answered before the database is read)."""
    if refused := public_page_refused(request, scope="verify", limit=settings.VERIFY_REQUESTS_PER_MINUTE):
        return None, refused
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
               "json_url": reverse("retirements:verify_json", args=[retirement.reference]),
               "log": retirement_log_proof(retirement)}
    if not retirement.is_private:
        record = retirement_record(retirement)
        context |= {"record": record, "digest": record_digest(record), "canonical_form": CANONICAL_FORM,
                    "facts": statement_facts(record)}
    return render(request, "retirements/verify.html", context)


def retirement_verify_json(request: HttpRequest, reference: str) -> HttpResponse:
    retirement, refusal = _verified(request, reference)
    if refusal:
        return refusal
    return JsonResponse(verification_record(retirement), json_dumps_params={"ensure_ascii": False})


RETIREMENT_COLUMNS = [("reference", "Reference"), ("date", "Retired"), ("option", "Counts toward"),
                      ("period", "Compliance period"), (None, "Reporting period"), ("beneficiary", "Beneficiary"),
                      ("quantity", "Quantity"), (None, "Account")]
# A regulator reads other organizations' retirements (those toward its programs): who retired each.
REGULATOR_COLUMN = ("organization", "Retired by")
RETIREMENTS_CSV_HEADER = ["Reference", "Transaction ID", "Retired", "Counts toward", "Option type", "Main reason",
                          "State or province", "Compliance period", "Period start", "Period end", "Beneficiary",
                          "Quantity", "Retirement Account ID", "Notes", "Organization ID", "Organization"]


def dashboard_retired_tab(request: HttpRequest, organization: Organization) -> dict:
    """The dashboard's Retired tab: the retirements the organization may read (a regulator's: those
    toward its programs, of every organization) with their details, filtered, sorted and paged as the
    query string says."""
    retirement_filter, retirements, sort = retirements_filtered(request.GET, organization)
    page = Paginator(retirements, TRANSACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    columns = RETIREMENT_COLUMNS
    if organization.is_regulator:
        columns = [*columns[:-1], REGULATOR_COLUMN, columns[-1]]
    return {"filter": retirement_filter, "page": page, "sort": sort, "columns": columns}


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
             retirement.transfer.destination_account.public_id, retirement.transfer.notes,
             retirement.transfer.organization.public_id, retirement.transfer.organization.name]
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
    return render(request, "retirements/annual_report.html", {
        "form": form, "report": report, "years": sorted((year for year in shown_years if year), reverse=True)})


ANNUAL_REPORT_CSV_HEADER = ["Year", "Counts toward", "Option type", "Main reason", "State or province",
                            "Compliance period", "Retirements", "MWh"]


@login_required
def retirement_annual_report_csv(request: HttpRequest) -> HttpResponse:
    """The annual retirement report's rows and totals as CSV, as the page shows them."""
    form, report = _annual_report(request, membership_required(request).organization)
    if report is None:
        return HttpResponseBadRequest("Nothing was downloaded: correct the year first.\nYear: "
                                      + " ".join(form.errors["year"]), content_type="text/plain; charset=utf-8")
    who = (lambda row: [row["organization_name"], row["organization_public_id"]]) if report.by_organization \
        else (lambda row: [])
    rows = [[report.year, *who(row), row["option_name"], row["option_type"], row["option_reason"], row["state"],
             row["compliance_period"] or "", row["retirement_count"], mwh_plain(row["quantity"])]
            for row in report.rows]
    rows.append([report.year, *(["", ""] if report.by_organization else []), "Total", "", "", "", "",
                 report.retirement_count, mwh_plain(report.quantity)])
    header = ANNUAL_REPORT_CSV_HEADER[:1] + (["Organization", "Organization ID"] if report.by_organization else []) \
        + ANNUAL_REPORT_CSV_HEADER[1:]
    return csv_response(f"retirements-{report.year}.csv", header, rows)


