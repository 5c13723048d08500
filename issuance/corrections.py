"""Corrections of an issued month (issue 30): registry staff roll back one issuance.

A rollback is allowed only while the issuance's certificates are untouched: its certificate's one
original batch, active and whole, in the account it was issued into, never moved out by a completed
transfer. Its batch is voided (final; it counts in no balance), its certificate voided (the period is
free again), the issuance kept but marked rolled back with who, when and why, its report submitted
again for correction, and the carry it produced undone.

Only the generator's latest issuance in force can be rolled back. Its carry out is the next one's
carry in: rolling back an earlier month would leave a later issuance built on a carry that no longer
exists (and its certificates issued from it), so the later months are rolled back first, latest to
earliest. With that rule, undoing the carry needs no write: the generator's carry is its latest
issuance in force's carry out (issuance.services, issuance.selectors), which is now the previous
month's, the carry in of the month rolled back, exactly as before it was issued.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from certificates.models import Certificate, CertificateBatch, Generator
from certificates.services import batches_lock, batches_void
from events.models import Event
from events.services import event_new, events_owed
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from registry.models import User
from registry.services import ServiceConflict, ServiceError, staff_require
from transfers.models import Transfer, TransferItem
from utilities.display import number_text

from .models import Correction, GenerationReport, Issuance

BatchStatus = CertificateBatch.Status
ROLLBACK_RULE = ("An issuance is rolled back only while all its certificates are still active and whole in the "
                 "account they were issued into.")
REASON_MAX_LENGTH = 2000


@dataclass
class RollbackPlan:
    """What a rollback of `issuance` would do, as it is read now: the batch voided (None when the month
    issued no certificate), the account it is in, the carry before and after, and why it is refused
    (None: it may go ahead). The confirmation page shows it; the service reads it again under its locks."""

    issuance: Issuance
    batch: CertificateBatch | None
    account: Account | None
    refusal: str | None

    @property
    def quantity(self) -> int:
        return self.issuance.quantity

    @property
    def carry_before(self) -> Decimal:
        """The generator's carry now: this month's carry out."""
        return self.issuance.carry_out

    @property
    def carry_after(self) -> Decimal:
        """Its carry once rolled back: what this month carried in."""
        return self.issuance.carry_in


def issuance_rollback_plan(issuance: Issuance) -> RollbackPlan:
    """The rollback of `issuance` as it would be now (no lock: the confirmation page's reading)."""
    issuance = Issuance.objects.select_related("generator__organization", "certificate", "report").get(pk=issuance.pk)
    batches = list(CertificateBatch.objects.filter(certificate_id=issuance.certificate_id).order_by("pk"))
    return _plan(issuance, batches)


def _plan(issuance: Issuance, batches: list[CertificateBatch]) -> RollbackPlan:
    """The plan over the issuance's certificate's `batches` (every one of them, superseded too)."""
    label = f"{issuance.generator.code} {issuance.period}"
    original = next((batch for batch in batches if batch.parent_id is None), None)
    issued_into = _issued_into(original) if original else None
    plan = RollbackPlan(issuance=issuance, batch=original, account=issued_into, refusal=None)
    if issuance.is_rolled_back:
        plan.refusal = f"{label} was rolled back already."
        return plan
    later = (Issuance.objects.in_force().filter(generator_id=issuance.generator_id, month__gt=issuance.month)
             .order_by("-month").first())
    if later is not None:
        plan.refusal = (f"{label} cannot be rolled back: {later.period} was issued after it, carrying in what it "
                        f"carried out. Roll back the later months first, the latest first ({later.period}).")
        return plan
    corrected = (Correction.objects.filter(status=Correction.Status.APPROVED)
                 .filter(Q(issuance=issuance) | Q(follows=issuance)).order_by("-sequence").first())
    if corrected is not None:  # its carry and debit, and a month's certificates, go on through the correction
        plan.refusal = (f"{label} cannot be rolled back: a correction of {corrected.generator.code} "
                        f"{corrected.period} was approved after it was issued. Correct the month instead.")
        return plan
    if issuance.certificate_id is None:
        return plan  # nothing was issued: the report and the carry only
    for batch in batches:
        batch.certificate = issuance.certificate  # for their serial numbers
    moves = _moves(batches, original, issued_into)
    if moves:
        plan.refusal = f"{label} cannot be rolled back: {'; '.join(moves)}. {ROLLBACK_RULE}"
    return plan


def _issued_into(original: CertificateBatch) -> Account | None:
    """The account the certificate was issued into, as its issuance ledger event recorded it."""
    account_id = (LedgerEvent.objects.filter(kind=LedgerEvent.Kind.ISSUANCE, batch_id=original.pk)
                  .values_list("account_id", flat=True).first())
    return Account.objects.select_related("organization").filter(pk=account_id).first()


def _moves(batches: list[CertificateBatch], original: CertificateBatch | None, issued_into: Account | None
           ) -> list[str]:
    """What moved of the certificate, one phrase each (the certificate's batches with `certificate` set)."""
    if original is None or issued_into is None:
        return ["its certificate's issued batch is missing from the ledger"]
    leaves = [batch for batch in batches if batch.status != BatchStatus.SUPERSEDED]
    transfers = _last_transfers([batch.pk for batch in leaves])
    moves = []
    if original.status == BatchStatus.SUPERSEDED:
        moves.append(f"{original.serial_number} was split")
    for batch in leaves:
        transfer = transfers.get(batch.pk)
        if moved := _moved(batch, transfer, issued_into):
            moves.append(moved)
    return moves


def _last_transfers(batch_ids: list[int]) -> dict[int, Transfer]:
    """The latest transfer each batch was moved by (pending or complete; one rejected, withdrawn or
    expired returned it as it was), by batch id."""
    items = (TransferItem.objects.filter(batch_id__in=batch_ids, transfer__status__in=(
        Transfer.Status.PENDING, Transfer.Status.COMPLETE)).select_related(
        "transfer__organization", "transfer__recipient_organization", "transfer__destination_account",
        "transfer__tracking_system").order_by("batch_id", "-transfer_id"))
    last: dict[int, Transfer] = {}
    for item in items:
        last.setdefault(item.batch_id, item.transfer)
    return last


def _moved(batch: CertificateBatch, transfer: Transfer | None, issued_into: Account) -> str | None:
    """How `batch` moved, in a phrase naming it; None when it is active where it was issued and no
    completed transfer ever took it away."""
    serial = batch.serial_number
    through = f" in transfer {transfer.pk}" if transfer else ""
    if batch.status == BatchStatus.PENDING:
        return f"{serial} is pending{through}" + (f" to {transfer.destination_label}" if transfer else "")
    if batch.status == BatchStatus.RETIRED:
        return f"{serial} was retired{through}"
    if batch.status == BatchStatus.EXPORTED:
        return f"{serial} was exported" + (f" to {transfer.destination_label}{through}" if transfer else "")
    if batch.status == BatchStatus.VOIDED:
        return f"{serial} is voided"
    if batch.account_id != issued_into.pk:
        account = Account.objects.select_related("organization").get(pk=batch.account_id)
        where = (f"account {account.public_id}" if account.organization_id == issued_into.organization_id
                 else f"{account.organization.name} ({account.organization.public_id})")
        return f"{serial} was transferred to {where}{through}"
    if transfer is not None:
        return f"{serial} was transferred{through} and came back"
    return None


@transaction.atomic(durable=True)
def issuance_rollback(*, user: User, issuance: Issuance, reason: str) -> Issuance:
    """Roll back one issuance (registry staff), with the reason: see the module's rule.

    One transaction: the generator locked (as an issuance run locks it: a run and a rollback of the same
    generator follow each other), then the issuance and its report, then its certificate's batches (in
    primary-key order, with their accounts: batches_lock, as a transfer locks them, so a rollback and a
    transfer of the same certificates follow each other and the second sees what the first did). The
    plan is read again under the locks; a refusal changes nothing (ServiceError). Then, each a
    compare-and-swap: the batch voided (batches_void, with its batch_voided ledger event), the certificate
    voided, the issuance marked rolled back, the report issued -> submitted; an issuance_rolled_back
    ledger event (the issuance, report and carry before and after) and an issuance.rolled_back domain
    event (the owner's managers are emailed and its webhooks told; billing and the public statistics
    take it off), written together."""
    staff_require(user=user)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give the reason for the rollback: the owner's managers are told it.")
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError(f"The reason is at most {number_text(REASON_MAX_LENGTH)} characters long.")
    generator = (Generator.objects.select_for_update(no_key=True, of=("self",)).select_related("organization")
                 .filter(pk=issuance.generator_id).first())
    locked = (Issuance.objects.select_for_update(of=("self",)).select_related("certificate", "report")
              .filter(pk=issuance.pk).first())
    if generator is None or locked is None:
        raise ServiceError("There is no such issuance.")
    locked.generator = generator
    GenerationReport.objects.select_for_update().filter(pk=locked.report_id).first()
    certificate_batches = CertificateBatch.objects.filter(certificate_id=locked.certificate_id).order_by("pk")
    batches_lock(certificate_batches.values_list("pk", flat=True))
    # Read again once they are locked: a transfer that held them may have split one meanwhile (its new
    # batches are in this read, the split one superseded); none of them can change from here on.
    plan = _plan(locked, list(certificate_batches))
    if plan.refusal:
        raise ServiceError(plan.refusal)

    organization = generator.organization
    now = timezone.now()
    if plan.batch is not None:
        batches_void(user=user, organization=organization, lines=[(plan.batch.pk, plan.batch.quantity)],
                     reason=reason, event_kind=None)
        if Certificate.objects.filter(pk=locked.certificate_id, voided_at__isnull=True).update(voided_at=now) != 1:
            raise ServiceConflict("The certificate changed meanwhile; nothing was rolled back. Try again.")
    if Issuance.objects.filter(pk=locked.pk, rolled_back_at__isnull=True).update(
            rolled_back_at=now, rolled_back_by=user, rollback_reason=reason) != 1:
        raise ServiceConflict("The issuance changed meanwhile; nothing was rolled back. Try again.")
    if GenerationReport.objects.filter(pk=locked.report_id, status=GenerationReport.Status.ISSUED).update(
            status=GenerationReport.Status.SUBMITTED) != 1:
        raise ServiceConflict("The generation report changed meanwhile; nothing was rolled back. Try again.")

    record = {"issuance": locked.pk, "generator": generator.code, "month": locked.month.isoformat(),
              "report": locked.report_id, "mwh": str(locked.mwh), "quantity": locked.quantity}
    voided = [plan.batch.pk] if plan.batch else []
    ledger = ledger_event(
        kind=LedgerEvent.Kind.ISSUANCE_ROLLED_BACK, actor=user, organization=organization,
        certificate=locked.certificate, batch=plan.batch, account=plan.account, note=reason,
        before=record | {"report_status": GenerationReport.Status.ISSUED, "carry": str(plan.carry_before),
                         "batch_status": BatchStatus.ACTIVE if voided else None},
        after=record | {"report_status": GenerationReport.Status.SUBMITTED, "carry": str(plan.carry_after),
                        "batch_status": BatchStatus.VOIDED if voided else None, "rolled_back_at": now.isoformat()})
    domain = event_new(kind=Event.Kind.ISSUANCE_ROLLED_BACK, organization_id=organization.pk, subject_id=locked.pk,
                       data={"quantity": locked.quantity, "generator": generator.code,
                             "month": locked.month.isoformat(), "batch_ids": voided, "reason": reason},
                       occurred_at=now)
    ledger_write([ledger], with_rows=[[domain]])
    events_owed([domain])
    locked.rolled_back_at, locked.rolled_back_by, locked.rollback_reason = now, user, reason
    return locked
