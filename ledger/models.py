from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from utilities.display import datetime_text


class LedgerEvent(models.Model):
    """An append-only record of one change: who, when, what, before and after.

    The database refuses UPDATE and DELETE on this table (a trigger, see migration 0002).
    """

    class Kind(models.TextChoices):
        ISSUANCE = "issuance", "Issuance"
        SPLIT = "split", "Split"
        TRANSFER_INITIATED = "transfer_initiated", "Transfer initiated"
        TRANSFER_ACCEPTED = "transfer_accepted", "Transfer accepted"
        TRANSFER_REJECTED = "transfer_rejected", "Transfer rejected"
        TRANSFER_WITHDRAWN = "transfer_withdrawn", "Transfer withdrawn"
        TRANSFER_EXPIRED = "transfer_expired", "Transfer expired"
        EXPORT_CONFIRMED = "export_confirmed", "Export confirmed"
        EXPORT_REJECTED = "export_rejected", "Export rejected"
        RETIREMENT = "retirement", "Retirement"
        RETIREMENT_PRIVACY = "retirement_privacy", "Retirement made private or public"
        ACCOUNT_STATUS = "account_status", "Account status changed"
        ORGANIZATION_STATUS = "organization_status", "Organization status changed"
        ORGANIZATION_SETTINGS = "organization_settings", "Organization settings changed"
        MEMBER_INVITED = "member_invited", "Member invited"
        INVITATION_RESENT = "invitation_resent", "Invitation resent"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        MEMBER_JOINED = "member_joined", "Member joined"
        MEMBER_ROLE_CHANGED = "member_role_changed", "Member's role changed"
        MEMBER_REMOVED = "member_removed", "Member removed"
        ACCOUNT_OPENED = "account_opened", "Account opened"
        ACCOUNT_RENAMED = "account_renamed", "Account renamed"
        GENERATOR_REGISTERED = "generator_registered", "Generator registered"
        GENERATOR_CHANGED = "generator_changed", "Generator changed"
        GENERATOR_SUBMITTED = "generator_submitted", "Generator submitted for approval"
        GENERATOR_APPROVED = "generator_approved", "Generator approved"
        GENERATOR_SENT_BACK = "generator_sent_back", "Generator sent back"
        GENERATOR_REVIEWED = "generator_reviewed", "Generator's registration confirmed in the annual review"
        ELIGIBILITY_RECORDED = "eligibility_recorded", "Generator eligibility recorded"
        ELIGIBILITY_CHANGED = "eligibility_changed", "Generator eligibility changed"
        ELIGIBILITY_ENDED = "eligibility_ended", "Generator eligibility ended"
        INSTRUCTION_CREATED = "instruction_created", "Standing instruction set"
        INSTRUCTION_ENDED = "instruction_ended", "Standing instruction ended"
        INSTRUCTION_LIFTED = "instruction_lifted", "Standing instruction's irrevocable flag lifted"
        TWO_FACTOR_ON = "two_factor_on", "Two-factor sign-in turned on"
        TWO_FACTOR_OFF = "two_factor_off", "Two-factor sign-in turned off"
        PROGRAM_CREATED = "program_created", "Program created"
        PROGRAM_CHANGED = "program_changed", "Program changed"
        PROGRAM_RETIRED = "program_retired", "Program retired"
        PROGRAM_ADMINISTRATOR_ADDED = "program_administrator_added", "Program administrator added"
        PROGRAM_ADMINISTRATOR_REMOVED = "program_administrator_removed", "Program administrator removed"
        PROGRAM_INVITED = "program_invited", "Invited to join a program"
        PROGRAM_JOINED = "program_joined", "Joined a program"
        PROGRAM_DECLINED = "program_declined", "Declined to join a program"
        BATCH_VOIDED = "batch_voided", "Batch voided"
        ISSUANCE_ROLLED_BACK = "issuance_rolled_back", "Issuance rolled back"
        CORRECTION_REQUESTED = "correction_requested", "Correction of an issued month requested"
        ISSUANCE_ADJUSTED = "issuance_adjusted", "Issued month corrected (prior period adjustment)"
        CORRECTION_REFUSED = "correction_refused", "Correction of an issued month refused"
        INVOICE_ISSUED = "invoice_issued", "Invoice issued"
        INVOICE_DUE_SOON = "invoice_due_soon", "Invoice due soon (reminded)"
        INVOICE_OVERDUE = "invoice_overdue", "Invoice overdue"
        PAYMENT_RECORDED = "payment_recorded", "Payment recorded"
        CREDIT_NOTE_ISSUED = "credit_note_issued", "Credit note issued"
        BILLING_HOLD_SET = "billing_hold_set", "Inactivated for an unpaid invoice"
        BILLING_HOLD_LIFTED = "billing_hold_lifted", "Active again: the unpaid invoices paid"
        FEE_SCHEDULE_SAVED = "fee_schedule_saved", "Fee schedule saved"
        BATCH_EXPIRED = "batch_expired", "Batch expired"
        # Registry staff recorded an import by conversion (imports.services.import_record): the certificate
        # and its one pending batch made, and the import transfer waiting for the recipient.
        IMPORT_RECORDED = "import_recorded", "Certificates imported from another tracking system"

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    kind = models.CharField(max_length=32, choices=Kind)
    # Not indexed: nothing reads the ledger by its actor, and a user is never deleted (PROTECT: the admin's
    # attempt scans the table to refuse it); an entry per event would be written and never read.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    organization = models.ForeignKey(
        "registry.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    batch = models.ForeignKey(
        "certificates.CertificateBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    transfer = models.ForeignKey(  # indexed where set (Meta): an issuance's events have none
        "transfers.Transfer", on_delete=models.PROTECT, null=True, blank=True, related_name="events", db_index=False
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["kind", "occurred_at"]),
            models.Index(fields=["transfer"], condition=models.Q(transfer__isnull=False), name="ledger_event_transfer"),
        ]  # the other foreign keys have an index each, but the actor

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} at {datetime_text(self.occurred_at)}"
