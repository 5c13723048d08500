from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear
from django.http import Http404, QueryDict

from accounts.models import Account
from accounts.selectors import accounts_open_active
from certificates.models import Certificate, CertificateBatch, Generator
from ledger.models import LedgerEvent
from registry.models import Organization, TrackingSystem, User
from utilities.rows import Columns, select_models

from .filters import RetirementFilter, TransactionFilter, retirements_sorted, transactions_sorted
from .models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Retirement, RetirementOption, Transfer, TransferItem
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
    if transfer.kind != Transfer.Kind.ORGANIZATION:
        return TransferRefused(f"Transfer {transfer.pk} waits for registry staff, not for an organization's decision.")
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
            kind_label=_label("kind", Kind),
            # The name a row's counterparty is written with first (Transfer.counterparty_label).
            counterparty_name=Case(
                When(recipient_organization=organization, then=F("organization__name")),
                When(kind=Kind.ORGANIZATION, then=F("recipient_organization__name")),
                When(kind=Kind.EXPORT, then=F("recipient_name")),
                default=F("destination_account__name"),
            ),
        )
    )


def _filtered(params: QueryDict, list_filter, sort_by):
    """(the filter, with its errors if any; its queryset filtered, or unfiltered if the filter is not
    valid, and sorted as the query string says; the sort)."""
    valid = list_filter.is_bound and list_filter.is_valid()
    queryset, sort = sort_by(list_filter.qs if valid else list_filter.queryset, params.get("sort", ""))
    return list_filter, queryset, sort


def transactions_filtered(params: QueryDict, organization: Organization):
    """The organization's transactions, filtered and sorted as the query string says: (the filter,
    with its errors if any; the transfers, unfiltered if the filter is not valid; the sort)."""
    return _filtered(params, TransactionFilter(params or None, organization=organization,
                                               queryset=transactions_for(organization)), transactions_sorted)


def retirements_of(organization: Organization):
    """The organization's retirements (complete retirement transfers), and no other's."""
    return Retirement.objects.filter(transfer__organization=organization, transfer__status=Transfer.Status.COMPLETE)


def retirements_for(organization: Organization):
    """The dashboard's Retired tab: the organization's retirements, with their details, account and
    total quantity."""
    quantity = (TransferItem.objects.filter(transfer=OuterRef("transfer")).order_by().values("transfer")
                .annotate(total=Sum("batch__quantity")).values("total"))
    return (retirements_of(organization)
            .select_related("transfer__destination_account", "option")
            .annotate(total_quantity=Coalesce(Subquery(quantity), 0)))


def _reference_read(text: str) -> str | None:
    """A retirement's reference as it is stored (upper case), or None for text that cannot be one."""
    if len(text) != REFERENCE_LENGTH or not set(text.upper()) <= set(REFERENCE_ALPHABET):
        return None
    return text.upper()


def retirement_by_reference(reference: str) -> Retirement | None:
    """The retirement a public reference names, or None (the reference is the only way in); text
    that cannot be a reference is None without reading the database."""
    if (reference := _reference_read(reference)) is None:
        return None
    return (Retirement.objects.select_related("transfer__organization", "option")
            .filter(reference=reference, transfer__status=Transfer.Status.COMPLETE).first())


def retirement_of(organization: Organization, reference: str) -> Retirement | None:
    """One of the organization's retirements, by its public reference (in any case), or None."""
    if (reference := _reference_read(reference)) is None:
        return None
    return retirements_for(organization).filter(reference=reference).first()


def retirements_filtered(params: QueryDict, organization: Organization):
    """The organization's retirements, filtered and sorted as the query string says (as
    transactions_filtered)."""
    return _filtered(params, RetirementFilter(params or None, queryset=retirements_for(organization)),
                     retirements_sorted)


def retirement_years(organization: Organization) -> list[int]:
    """The years the organization retired certificates in, newest first: the year of each retirement's
    date in the current time zone (the reader's, as the pages show dates)."""
    return list(retirements_of(organization).annotate(year=ExtractYear("transfer__submitted_at"))
                .order_by("-year").values_list("year", flat=True).distinct())


@dataclass(frozen=True)
class AnnualRetirementReport:
    """An organization's retirements of one year, a row per option, compliance period and state or
    province (the option's), each with its count of retirements and quantity; and the totals."""

    year: int
    rows: list[dict]
    retirement_count: int
    quantity: int


def _label(field: str, choices) -> Case:
    """A choice field's label, as the database writes it (so a grouped row carries it)."""
    return Case(*[When(**{field: choice, "then": Value(choice.label)}) for choice in choices], default=F(field))


def retirement_report(organization: Organization, year: int) -> AnnualRetirementReport:
    """The annual retirement report, grouped and summed by the database. A retirement's year is that of
    its date in the current time zone (the reader's), as the pages show it."""
    retirements = retirements_of(organization).filter(transfer__submitted_at__year=year)
    summed = {"retirement_count": Count("pk", distinct=True),
              "quantity": Coalesce(Sum("transfer__items__batch__quantity"), 0)}
    rows = list(retirements.values(
        "compliance_period", option_name=F("option__name"), state=F("option__state"),
        option_type=_label("option__type", RetirementOption.Type),
        option_reason=_label("option__reason", RetirementOption.Reason),
    ).annotate(**summed).order_by("option_name", "compliance_period", "state"))
    totals = retirements.aggregate(**summed)
    return AnnualRetirementReport(year=year, rows=rows, **totals)


def transfer_items(transfer: Transfer):
    return transfer.items.select_related(
        "batch__certificate__generator", "batch__account", "source_batch", "source_account"
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


def retirement_options_offered():
    """The retirement options a retirement can count toward: the active ones, by name (registry staff
    stop offering an option by deactivating it; the retirements made toward it keep it)."""
    return RetirementOption.objects.filter(is_active=True).order_by("name")


def tracking_systems_to_export_to() -> list[TrackingSystem]:
    return list(TrackingSystem.objects.filter(is_active=True).order_by("code"))
