"""The mass uploads' pages: the templates, the upload form and past uploads, one upload's status."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from certificates.models import CertificateBatch
from certificates.selectors import batches_filtered, selection_batches, selection_ids
from certificates.serials import format_serial
from registry.selectors import membership_required
from registry.services import ServiceError
from retirements.selectors import retirement_options_offered
from utilities.csv_export import csv_response
from utilities.filters import download_refused
from utilities.htmx import htmx_partial

from . import validation
from .forms import MassUploadForm
from .models import MassTransferUpload
from .services import mass_upload_create, mass_upload_release


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
                return redirect("mass_uploads:detail", pk=upload.pk)
    uploads = (MassTransferUpload.objects.filter(organization=membership.organization)
               .select_related("uploaded_by").annotate(made_count=Count("transfers"))[:50])
    return render(request, "mass_uploads/mass.html", {
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
        return redirect("mass_uploads:detail", pk=upload.pk)
    transfers = upload.transfers.select_related("recipient_organization", "destination_account").annotate(
        total_quantity=Sum("items__batch__quantity")).order_by("pk")
    duplicate_of = None
    if upload.status == MassTransferUpload.Status.HELD:
        duplicate_of = (MassTransferUpload.objects.filter(organization=upload.organization, sha256=upload.sha256)
                        .exclude(pk=upload.pk).order_by("-created_at").first())
    template = "mass_uploads/mass_detail.html#status" if htmx_partial(request) else "mass_uploads/mass_detail.html"
    return render(request, template, {"upload": upload, "transfers": transfers, "duplicate_of": duplicate_of,
                                      "can_act": membership.can_transfer,
                                      "role_note": membership.read_only_note(may="process or discard it"),
                                      "max_attempts": settings.MASS_UPLOAD_MAX_ATTEMPTS})


@login_required
def mass_template(request: HttpRequest) -> HttpResponse:
    """The Mass Certificate Transfers Template: the header row, columns A to E."""
    membership_required(request)
    return csv_response("mass-certificate-transfers-template.csv", validation.COLUMNS, [])


@login_required
def mass_retirement_template(request: HttpRequest) -> HttpResponse:
    """The Mass Certificate Retirements Template: the header row, columns A to I."""
    membership_required(request)
    return csv_response("mass-certificate-retirements-template.csv", validation.RETIREMENT_COLUMNS, [])


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
    return csv_response("mass-certificate-transfers.csv", validation.COLUMNS, rows)


