from collections.abc import Iterable

from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404, QueryDict

from accounts.models import Account
from accounts.selectors import accounts_open_active
from certificates.models import Certificate, CertificateBatch, Generator
from ledger.models import LedgerEvent
from registry.models import Organization, TrackingSystem, User
from utilities.rows import Columns, select_models

from .filters import TransactionFilter, transactions_sorted
from .models import Transfer, TransferItem
from .values import NotPending, NotYourDecision, TransferRefused


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


DECISIONS = ("accept", "reject", "withdraw")  # an organization's decisions on a transfer it sent or was sent


def transfer_decision_refused(transfer: Transfer, *, organization_id: int, decision: str) -> TransferRefused | None:
    """Why the organization `organization_id` (the transfer's sender or recipient) may not take
    `decision` on the transfer, as the refusal the services raise; None when it may. The one
    statement of who decides what: only a transfer to another organization waits for an
    organization (an export, for registry staff); its recipient accepts and rejects it, its sender
    withdraws it, while it is pending. The transfer page reads it to offer its buttons and to say
    why not; the decision services ask it again of the transfer they lock. (Whether the member's
    role may decide is the role's rule: role_require, Membership.can_transfer.)"""
    if transfer.kind not in (Transfer.Kind.ORGANIZATION, Transfer.Kind.IMPORT):
        return TransferRefused(f"Transfer {transfer.pk} waits for registry staff, not for an organization's decision.")
    if decision == "withdraw" and transfer.kind == Transfer.Kind.IMPORT:
        return NotYourDecision("An import is not withdrawn here: registry staff record it, and its recipient "
                               "accepts or rejects it.")
    if decision == "withdraw" and transfer.organization_id != organization_id:
        return NotYourDecision(f"Only the sender, {transfer.organization.name}, can withdraw this transfer; you "
                               "can accept or reject it.")
    if decision != "withdraw" and transfer.recipient_organization_id != organization_id:
        return NotYourDecision(f"You sent this transfer; only the recipient, {transfer.recipient_organization.name}, "
                               f"can {decision} it.")
    if transfer.status != Transfer.Status.PENDING:
        return NotPending(transfer)
    return None


def transfer_decisions(transfer: Transfer, *, organization_id: int) -> dict[str, TransferRefused | None]:
    """Each of the organization's DECISIONS on the transfer, with why it may not take it (None: it may)."""
    return {decision: transfer_decision_refused(transfer, organization_id=organization_id, decision=decision)
            for decision in DECISIONS}


def transfers_incoming_pending(organization: Organization):
    """Transfers from other organizations waiting for this organization to accept or reject them."""
    return Transfer.objects.filter(status=Transfer.Status.PENDING, recipient_organization=organization)


def transfers_incoming_pending_count(organization: Organization) -> int:
    return transfers_incoming_pending(organization).count()


def transfers_pending_for(organization: Organization):
    """(incoming, outgoing) pending transfers of the organization, with what the Pending tab shows."""
    related = ("organization", "recipient_organization", "tracking_system", "created_by")
    summed = {"total_quantity": Sum("items__batch__quantity"), "item_count": Count("items")}
    incoming = transfers_incoming_pending(organization).select_related(*related).annotate(**summed).order_by(
        "submitted_at")
    outgoing = Transfer.objects.filter(status=Transfer.Status.PENDING, organization=organization).select_related(
        *related).annotate(**summed).order_by("submitted_at")
    return incoming, outgoing


def transactions_for(organization: Organization):
    """The dashboard's Transactions tab: every transfer the organization sent or was sent (a draft,
    or a draft that failed, was never submitted and is not a transaction), with what a row shows and
    sorts by: the total quantity, the type's label, and the name of the other side."""
    quantity = (TransferItem.objects.filter(transfer=OuterRef("pk")).order_by().values("transfer")
                .annotate(total=Sum("batch__quantity")).values("total"))
    Kind = Transfer.Kind
    return (
        transfers_visible_to(organization).exclude(submitted_at=None)
        .select_related("organization", "recipient_organization", "tracking_system", "destination_account")
        .annotate(
            total_quantity=Coalesce(Subquery(quantity), 0),
            kind_label=choice_label("kind", Kind),
            # The name a row's counterparty is written with first (Transfer.counterparty_label).
            counterparty_name=Case(
                When(kind=Kind.IMPORT, then=F("tracking_system__name")),
                When(recipient_organization=organization, then=F("organization__name")),
                When(kind=Kind.ORGANIZATION, then=F("recipient_organization__name")),
                When(kind=Kind.EXPORT, then=F("recipient_name")),
                default=F("destination_account__name"),
            ),
        )
    )


def filtered(params: QueryDict, list_filter, sort_by):
    """(the filter, with its errors if any; its queryset filtered, or unfiltered if the filter is not
    valid, and sorted as the query string says; the sort)."""
    valid = list_filter.is_bound and list_filter.is_valid()
    queryset, sort = sort_by(list_filter.qs if valid else list_filter.queryset, params.get("sort", ""))
    return list_filter, queryset, sort


def transactions_filtered(params: QueryDict, organization: Organization):
    """The organization's transactions, filtered and sorted as the query string says: (the filter,
    with its errors if any; the transfers, unfiltered if the filter is not valid; the sort)."""
    return filtered(params, TransactionFilter(params or None, organization=organization,
                                               queryset=transactions_for(organization)), transactions_sorted)


def choice_label(field: str, choices) -> Case:
    """A choice field's label, as the database writes it (so a grouped row carries it)."""
    return Case(*[When(**{field: choice, "then": Value(choice.label)}) for choice in choices], default=F(field))


def transfer_items(transfer: Transfer):
    return transfer.items.select_related(
        "batch__certificate__generator", "batch__certificate__imported_from", "batch__account", "source_batch",
        "source_account"
    ).order_by("batch__certificate__period", "batch__serial_start")


def transfer_source_accounts(transfer: Transfer) -> list[Account]:
    """The accounts the transfer's certificates were taken from (one, or several for a transfer of
    batches held in several accounts)."""
    return list(Account.objects.filter(pk__in=transfer.items.values("source_account_id")).order_by("name", "pk"))


def transfer_history(transfer: Transfer):
    return LedgerEvent.objects.filter(transfer=transfer).select_related("actor", "organization").order_by("id")


# The two reads of every wizard request, its draft and the draft's batches, written once in SQL
# from the models' own fields (utilities.rows): through the ORM, which compiles both queries afresh
# on every request, a transfer through the wizard took 57-64 ms of gunicorn's CPU against 46-53 ms
# (bench/wizard_load.py at N = 4, against the ORM's version of these two, interleaved).
_TRANSFER = Columns(Transfer, "t")
_BATCH, _CERTIFICATE, _GENERATOR = Columns(CertificateBatch, "b"), Columns(Certificate, "c"), Columns(Generator, "g")
_ACCOUNT = Columns(Account, "a")
DRAFT_SQL = f"""SELECT {_TRANSFER.sql} FROM {_TRANSFER.table}
                WHERE t.id = %s AND t.organization_id = %s AND t.created_by_id = %s"""
DRAFT_BATCHES_SQL = f"""
    SELECT {_BATCH.sql}, {_CERTIFICATE.sql}, {_GENERATOR.sql}, {_ACCOUNT.sql}
    FROM {_BATCH.table}
    JOIN {_CERTIFICATE.table} ON c.id = b.certificate_id
    JOIN {_GENERATOR.table} ON g.id = c.generator_id
    JOIN {_ACCOUNT.table} ON a.id = b.account_id
    WHERE a.organization_id = %s AND b.id = ANY(%s)"""


def draft_for(*, pk: int, organization: Organization, user: User) -> Transfer:
    """A draft of the wizard (or the transfer it became): only its own user's, in this organization;
    404 for anyone else."""
    found = select_models(DRAFT_SQL, [pk, organization.pk, user.pk], _TRANSFER)
    if not found:
        raise Http404("No such transfer.")
    return found[0][0]


def draft_batches(draft: Transfer, organization: Organization,
                  batches: list[CertificateBatch] | None = None) -> list[tuple[CertificateBatch, int]]:
    """The draft's lines as (batch, quantity), in the draft's order, each batch with its certificate
    generator and account (where the certificates come from); a batch that is no longer the
    organization's is left out. `batches`: the ones
    this function gave earlier in the request, if the quantities changed since but not the batches."""
    lines = draft.draft.get("lines", [])
    if batches is None:
        batches = []
        for batch, certificate, generator, account in select_models(
                DRAFT_BATCHES_SQL, [organization.pk, [batch_id for batch_id, _ in lines]],
                _BATCH, _CERTIFICATE, _GENERATOR, _ACCOUNT):
            certificate.generator, batch.certificate, batch.account = generator, certificate, account
            batches.append(batch)
    by_id = {batch.pk: batch for batch in batches}
    return [(by_id[batch_id], quantity) for batch_id, quantity in lines if batch_id in by_id]


def batches_already_in(account_id: int, batches: Iterable[CertificateBatch]) -> list[CertificateBatch]:
    """Of `batches`, those in account `account_id`: an internal transfer moves a batch to another
    account, never to the one it is in."""
    return [batch for batch in batches if batch.account_id == account_id]


def accounts_to_receive(organization: Organization,
                        batches: list[CertificateBatch]) -> tuple[list[Account], list[Account]]:
    """(the accounts an internal transfer of every one of `batches` can go to: the organization's
    open active accounts that hold none of them; the open active accounts left out because the
    certificates come from them), each by name."""
    receiving, holding = [], []
    for account in accounts_open_active(organization):
        (holding if batches_already_in(account.pk, batches) else receiving).append(account)
    return receiving, holding


def tracking_systems_to_export_to() -> list[TrackingSystem]:
    return list(TrackingSystem.objects.filter(is_active=True).order_by("code"))
