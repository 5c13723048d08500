"""The email to the uploader of generation data when the worker is done with the file: every error,
or the months recorded. The shape of the mass upload's email (transfers.notifications)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from registry.models import EmailEvent
from registry.selectors import organization_link
from transfers.notifications import ERRORS_IN_BODY, preferences_url
from utilities.csv_upload import errors_csv
from utilities.display import number_text
from utilities.time_zones import in_time_zone

from .models import GenerationUpload


def generation_upload_notify(*, upload_id: int) -> int:
    upload = GenerationUpload.objects.select_related("uploaded_by", "organization").filter(pk=upload_id).first()
    if upload is None or upload.status not in (GenerationUpload.Status.FAILED, GenerationUpload.Status.COMPLETED):
        return 0
    if not upload.uploaded_by.wants_email(EmailEvent.UPLOAD_FINISHED):
        return 0
    failed = upload.status == GenerationUpload.Status.FAILED
    reports = list(upload.reports.select_related("generator").order_by("generator__code", "month"))
    context = {"upload": upload, "failed": failed, "errors": upload.errors[:ERRORS_IN_BODY],
               "more_errors": max(0, len(upload.errors) - ERRORS_IN_BODY), "reports": reports,
               "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url(),
               "url": organization_link(settings.SITE_URL + reverse("issuance:upload", args=[upload.pk]),
                                        upload.organization)}
    subject = (f"[{settings.REGISTRY_NAME}] Generation upload {upload.filename}: "
               + (f"{number_text(len(upload.errors))} error(s), {upload.nothing_done.lower()}" if failed
                  else f"{number_text(len(reports))} month(s) recorded"))
    with in_time_zone(upload.uploaded_by.time_zone):
        body = render_to_string("issuance/email/upload.txt", context)
        html = render_to_string("issuance/email/upload.html", context)
    message = EmailMultiAlternatives(subject=subject, to=[upload.uploaded_by.email], body=body)
    message.attach_alternative(html, "text/html")
    if failed and upload.errors:
        message.attach(f"errors-generation-upload-{upload.pk}.csv", errors_csv(upload.errors), "text/csv")
    message.send()
    return 1
