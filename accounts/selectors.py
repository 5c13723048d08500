from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from certificates.models import CertificateBatch
from registry.models import Organization

from .models import Account


def accounts_with_balances(organization: Organization) -> QuerySet[Account]:
    """The organization's accounts, each with its active, pending and retired quantities."""
    def held(status):
        return Coalesce(Sum("batches__quantity", filter=Q(batches__status=status)), 0)

    return (
        Account.objects.of(organization)
        .annotate(
            active_quantity=held(CertificateBatch.Status.ACTIVE),
            pending_quantity=held(CertificateBatch.Status.PENDING),
            retired_quantity=held(CertificateBatch.Status.RETIRED),
        )
        .order_by("type", "name")
    )
