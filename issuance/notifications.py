"""The email of issuance to the uploader of generation data when the worker is done with the file
(every error, or the months recorded: the shape of the mass upload's email, notifications.transfers).
That to an organization's members when certificates are issued to it is the emails consumer's
(notifications.issuance)."""

from django.conf import settings
from django.urls import reverse

from registry.emails import upload_email_send
from registry.models import EmailEvent
from registry.selectors import organization_link
from utilities.display import count_text

from .models import GenerationUpload


def generation_upload_notify(*, upload_id: int) -> int:
    upload = GenerationUpload.objects.select_related("uploaded_by", "organization").filter(pk=upload_id).first()
    if upload is None or upload.status not in (GenerationUpload.Status.FAILED, GenerationUpload.Status.COMPLETED):
        return 0
    if not upload.uploaded_by.wants_email(EmailEvent.UPLOAD_FINISHED):
        return 0
    failed = upload.status == GenerationUpload.Status.FAILED
    reports = list(upload.reports.select_related("generator").order_by("generator__code", "month"))
    context = {"failed": failed, "reports": reports,
               "url": organization_link(settings.SITE_URL + reverse("issuance:upload", args=[upload.pk]),
                                        upload.organization)}
    subject = (f"[{settings.REGISTRY_NAME}] Generation upload {upload.filename}: "
               + (f"{count_text(len(upload.errors), 'error')}, {upload.nothing_done.lower()}" if failed
                  else f"{count_text(len(reports), 'month')} recorded"))
    return upload_email_send(upload, subject=subject, template="issuance/email/upload",
                             attachment=f"errors-generation-upload-{upload.pk}.csv", context=context)
