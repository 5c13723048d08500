from collections.abc import Iterable

from django.db.models import Count, Q, Sum
from django.http import Http404

from certificates.models import CertificateBatch
from ledger.models import LedgerEvent
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


def transfers_pending_for(organization: Organization):
    """(incoming, outgoing) pending transfers of the organization, with what the Pending tab shows."""
    related = ("organization", "recipient_organization", "tracking_system", "created_by")
    pending = Transfer.objects.filter(status=Transfer.Status.PENDING).select_related(*related).annotate(
        total_quantity=Sum("items__batch__quantity"), item_count=Count("items"))
    incoming = pending.filter(recipient_organization=organization).order_by("submitted_at")
    outgoing = pending.filter(organization=organization).order_by("submitted_at")
    return incoming, outgoing


def transfer_items(transfer: Transfer):
    return transfer.items.select_related(
        "batch__certificate__generator", "batch__account", "source_batch", "source_account"
    ).order_by("batch__certificate__vintage", "batch__serial_start")


def transfer_history(transfer: Transfer):
    return LedgerEvent.objects.filter(transfer=transfer).select_related("actor", "organization").order_by("id")


def batches_already_in(account_id: int, batches: Iterable[CertificateBatch]) -> list[CertificateBatch]:
    """Of `batches`, those in account `account_id`: an internal transfer moves a batch to another
    account, never to the one it is in."""
    return [batch for batch in batches if batch.account_id == account_id]
