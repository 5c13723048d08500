from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet

from registry.models import Organization

from .arithmetic import issued_quantity
from .models import GenerationReport, GenerationUpload, Issuance


def generation_uploads_of(organization: Organization) -> QuerySet[GenerationUpload]:
    return (GenerationUpload.objects.filter(organization=organization).select_related("uploaded_by")
            .annotate(made_count=Count("reports")))


def generation_upload_for(organization: Organization, pk: int) -> GenerationUpload | None:
    return GenerationUpload.objects.filter(organization=organization, pk=pk).select_related("uploaded_by").first()


def generation_reports_for(organization: Organization) -> QuerySet[GenerationReport]:
    """The live reports the organization may read (of its generators, or submitted as a reporter),
    each with what was issued for it, if anything."""
    return (GenerationReport.objects.visible_to(organization).live()
            .select_related("generator", "issuance__certificate", "upload").order_by("-month", "generator__code"))


def issuance_for(organization: Organization, pk: int) -> Issuance | None:
    return (Issuance.objects.visible_to(organization).filter(pk=pk)
            .select_related("generator", "certificate", "report", "issued_by").first())


@dataclass(frozen=True)
class IssuancePreview:
    """What issuing a set of reports would make, for the staff's confirm page."""

    generators: int
    months: int
    mwh: Decimal
    certificates: int
    not_submitted: int  # selected reports already issued or replaced: issuance_run leaves them


def issuance_preview(reports: QuerySet[GenerationReport]) -> IssuancePreview:
    """The totals of issuing the submitted ones of `reports`, each generator's months in order from
    the carry its last issuance left (the arithmetic issuance_run applies)."""
    submitted = list(reports.filter(status=GenerationReport.Status.SUBMITTED).order_by("generator_id", "month")
                     .values_list("generator_id", "mwh"))
    generator_ids = {generator_id for generator_id, _ in submitted}
    carry = dict(Issuance.objects.filter(generator__in=generator_ids).order_by("generator_id", "-month")
                 .distinct("generator_id").values_list("generator_id", "carry_out"))
    certificates = 0
    for generator_id, mwh in submitted:
        quantity, carry[generator_id] = issued_quantity(mwh, carry.get(generator_id, Decimal(0)))
        certificates += quantity
    return IssuancePreview(generators=len(generator_ids), months=len(submitted),
                           mwh=sum((mwh for _, mwh in submitted), Decimal(0)), certificates=certificates,
                           not_submitted=reports.count() - len(submitted))
