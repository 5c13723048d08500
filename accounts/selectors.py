from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from registry.models import Organization

from .models import Account


def accounts_with_balances(organization: Organization) -> QuerySet[Account]:
    """The organization's accounts, each with its active, pending and retired quantities.

    The batches are reached through their relation to the account (`batches`), by the values of
    their status: accounts sit below certificates in the layers, so this module does not import them.
    """
    def held(status):
        return Coalesce(Sum("batches__quantity", filter=Q(batches__status=status)), 0)

    return (
        Account.objects.of(organization)
        .annotate(active_quantity=held("active"), pending_quantity=held("pending"), retired_quantity=held("retired"))
        .order_by("type", "name")
    )
