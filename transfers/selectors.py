from django.db.models import Q
from django.http import Http404

from registry.models import Organization

from .models import Transfer


def transfers_visible_to(organization: Organization):
    """Transfers an organization sent or was sent; drafts only to their sender."""
    return Transfer.objects.filter(
        Q(organization=organization)
        | (Q(recipient_organization=organization) & ~Q(status=Transfer.Status.DRAFT))
    )


def transfer_for_organization(*, pk: int, organization: Organization) -> Transfer:
    """A transfer of this organization's, or 404: another organization's transfer is not found."""
    transfer = (
        transfers_visible_to(organization)
        .select_related("organization", "recipient_organization", "destination_account",
                        "tracking_system", "created_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer
