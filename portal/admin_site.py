import contextlib
import datetime
import time

import redis
from django.contrib import admin
from django.core.cache import cache
from django.db.models import Count, Sum
from django.utils import timezone


class RegistryAdminSite(admin.AdminSite):
    site_header = "Registry administration"
    site_title = "Registry administration"
    index_title = "Registry dashboard"
    index_template = "admin/registry_index.html"

    @property
    def login_form(self):
        from registry.forms import AdminSignInForm  # the same second factor as the portal's sign-in

        return AdminSignInForm

    def index(self, request, extra_context=None):
        return super().index(request, extra_context={**(extra_context or {}), **registry_overview()})


def ledger_check() -> dict:
    """verify_ledger's result, kept a minute so the dashboard stays quick on a large registry."""
    from ledger.verification import ledger_breaches

    unreachable = (redis.ConnectionError, redis.TimeoutError)  # an error Redis answers with is a bug: raised
    try:
        result = cache.get("admin:ledger-check")
    except unreachable:  # the cache is away: check afresh rather than fail the dashboard
        result = None
    if result is None:
        started = time.perf_counter()
        breaches = ledger_breaches(limit_per_check=20)
        result = {"breaches": breaches, "seconds": round(time.perf_counter() - started, 2),
                  "checked_at": timezone.now()}
        with contextlib.suppress(*unreachable):
            cache.set("admin:ledger-check", result, 60)
    return result


def registry_overview() -> dict:
    from certificates.models import Certificate, CertificateBatch, Generator
    from certificates.reviews import generators_overdue, review_today
    from mass_uploads.models import MassTransferUpload
    from registry.models import Organization
    from transfers.models import Transfer

    week_ago = timezone.now() - datetime.timedelta(days=7)
    # Every batch that holds serials, voided ones too: the rows sum to the certificates issued.
    by_status = (CertificateBatch.objects.exclude(status=CertificateBatch.Status.SUPERSEDED).values("status")
                 .annotate(batches=Count("pk"), certificates=Sum("quantity")).order_by("status"))
    return {
        "organization_counts": dict(Organization.objects.values_list("status").annotate(n=Count("pk"))),
        "batches_by_status": list(by_status),
        "issued_certificates": Certificate.objects.aggregate(total=Sum("quantity"))["total"] or 0,
        "stale_pending": Transfer.objects.filter(status=Transfer.Status.PENDING, submitted_at__lt=week_ago)
        .select_related("organization", "recipient_organization", "tracking_system").order_by("submitted_at")[:20],
        "stale_pending_count": Transfer.objects.filter(status=Transfer.Status.PENDING,
                                                       submitted_at__lt=week_ago).count(),
        "generators_awaiting_approval": Generator.objects.awaiting_approval().count(),
        "generators_overdue": generators_overdue(review_today()).count(),
        "pending_exports": Transfer.objects.filter(status=Transfer.Status.PENDING, kind=Transfer.Kind.EXPORT).count(),
        "failed_uploads": MassTransferUpload.objects.filter(status=MassTransferUpload.Status.FAILED)
        .select_related("organization").order_by("-created_at")[:10],
        "ledger_check": ledger_check(),
    }
