from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from certificates.periods import interval_rule_text
from instructions.selectors import runs_for_certificate
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.csv_export import csv_response
from utilities.csv_upload import CsvUploadForm
from utilities.htmx import htmx_partial

from . import generation, intervals
from .adjustments import correction_request
from .forms import CorrectionRequestForm, ReportMonthForm
from .models import Correction
from .selectors import (
    corrections_for,
    generation_reports_for,
    generation_upload_for,
    generation_uploads_of,
    issuance_for,
    issuances_corrected_mwh,
)
from .services import generation_upload_create

REPORTS_PER_PAGE = 100
CORRECTIONS_SHOWN = 100  # the latest; each month's page lists all of its own


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
        "can_act": membership.can_transfer, "role_note": membership.read_only_note(may="upload generation data"),
        "interval_text": interval_rule_text()})


@login_required
def generation_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_required(request)
    upload = generation_upload_for(membership.organization, pk)
    if upload is None:
        raise Http404("No such upload.")
    reports = upload.reports.select_related("generator").order_by("generator__code", "month")
    template = "issuance/upload_detail.html#status" if htmx_partial(request) else "issuance/upload_detail.html"
    corrections = upload.corrections.select_related("generator").order_by("generator__code", "month")
    return render(request, template, {"upload": upload, "reports": reports, "corrections": corrections})


@login_required
def generation_template(request: HttpRequest) -> HttpResponse:
    """The generation data template: the header row, columns A to C."""
    membership_required(request)
    return csv_response("generation-data-template.csv", generation.COLUMNS, [])


@login_required
def interval_template(request: HttpRequest) -> HttpResponse:
    """The interval data template of granular generators: the header row, columns A to D."""
    membership_required(request)
    return csv_response("interval-data-template.csv", intervals.COLUMNS, [])


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
    corrections = corrections_for(membership.organization)
    if form.is_valid() and form.cleaned_data["month"]:
        corrections = corrections.filter(month=form.cleaned_data["month"].first_day)
    return render(request, template, {"page": page, "form": form, "corrections": corrections[:CORRECTIONS_SHOWN],
                                      "organization": membership.organization})


@login_required
def issuance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One issuance: the month, the arithmetic, the certificates, what the standing instructions did,
    and the month's corrections; its owner's managers request one here (a plain form post)."""
    membership = membership_required(request)
    issuance = issuance_for(membership.organization, pk)
    if issuance is None:
        raise Http404("No such issuance.")
    form = CorrectionRequestForm()
    if request.method == "POST":
        membership_required(request, manage=True)
        form = CorrectionRequestForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                correction_request(organization=membership.organization, user=request.user, issuance=issuance,
                                   mwh=form.cleaned_data["mwh"], note=form.cleaned_data["note"],
                                   evidence=form.cleaned_data["evidence"])
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Your correction of {issuance.generator.code} {issuance.period} was sent "
                                          "to the registry; you will be emailed its decision.")
                return redirect("issuance:issuance", pk=issuance.pk)
    runs = runs_for_certificate(issuance.certificate, membership.organization) if issuance.certificate else []
    return render(request, "issuance/issuance_detail.html", {
        "issuance": issuance, "runs": runs, "form": form, "can_request": membership.is_manager,
        "corrections": corrections_for(membership.organization).filter(issuance=issuance).order_by("pk"),
        "corrected_mwh": issuances_corrected_mwh([issuance.pk])[issuance.pk]}, status=400 if form.errors else 200)


@login_required
def correction_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """A correction's evidence file, to registry staff and to the organizations that see the correction."""
    corrections = Correction.objects.all()
    if not request.user.is_staff:
        corrections = corrections.visible_to(membership_required(request).organization)
    correction = corrections.filter(pk=pk).exclude(evidence="").first()
    if correction is None:
        raise Http404("No such evidence.")
    return FileResponse(correction.evidence.open("rb"), as_attachment=True,
                        filename=correction.evidence_name or "evidence")
