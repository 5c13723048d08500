from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from instructions.selectors import runs_for_certificate
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.csv_export import csv_response
from utilities.csv_upload import CsvUploadForm
from utilities.htmx import htmx_partial

from . import generation
from .forms import ReportMonthForm
from .selectors import generation_reports_for, generation_upload_for, generation_uploads_of, issuance_for
from .services import generation_upload_create

REPORTS_PER_PAGE = 100


@login_required
def generation_uploads(request: HttpRequest) -> HttpResponse:
    """The template, the upload form, and the organization's past generation uploads."""
    membership = membership_required(request)
    form = CsvUploadForm()
    if request.method == "POST":
        membership_required(request, act=True)
        form = CsvUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = generation_upload_create(organization=membership.organization, user=request.user,
                                                  upload=form.cleaned_data["file"])
            except ServiceError as error:
                form.add_error("file", str(error))
            else:
                return redirect("issuance:upload", pk=upload.pk)
    return render(request, "issuance/uploads.html", {
        "form": form, "uploads": generation_uploads_of(membership.organization)[:50],
        "can_act": membership.can_transfer, "role_note": membership.read_only_note(may="upload generation data")})


@login_required
def generation_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_required(request)
    upload = generation_upload_for(membership.organization, pk)
    if upload is None:
        raise Http404("No such upload.")
    reports = upload.reports.select_related("generator").order_by("generator__code", "month")
    template = "issuance/upload_detail.html#status" if htmx_partial(request) else "issuance/upload_detail.html"
    return render(request, template, {"upload": upload, "reports": reports})


@login_required
def generation_template(request: HttpRequest) -> HttpResponse:
    """The generation data template: the header row, columns A to C."""
    membership_required(request)
    return csv_response("generation-data-template.csv", generation.COLUMNS, [])


@login_required
def generation_reports(request: HttpRequest) -> HttpResponse:
    """The organization's generation reports, by month, each with what was issued for it."""
    membership = membership_required(request)
    form = ReportMonthForm(request.GET)
    reports = generation_reports_for(membership.organization)
    if form.is_valid() and form.cleaned_data["month"]:
        reports = reports.filter(month=form.cleaned_data["month"].first_day)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    template = "issuance/reports.html#reports" if htmx_partial(request) else "issuance/reports.html"
    return render(request, template, {"page": page, "form": form,
                                      "organization": membership.organization})


@login_required
def issuance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One issuance: the month, the arithmetic, the certificates, and what the standing instructions did."""
    membership = membership_required(request)
    issuance = issuance_for(membership.organization, pk)
    if issuance is None:
        raise Http404("No such issuance.")
    runs = runs_for_certificate(issuance.certificate, membership.organization) if issuance.certificate else []
    return render(request, "issuance/issuance_detail.html", {"issuance": issuance, "runs": runs})
