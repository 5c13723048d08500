"""The domain events every service records (the outbox), and each consumer's progress through them
and claims on them. An event is written in the transaction of the change it records and never
changed after (the database refuses UPDATE and DELETE, as for the ledger)."""

from django.db import models
from django.utils import timezone


class TransactionIdField(models.Field):
    """PostgreSQL's xid8: the 64-bit id of the transaction that wrote the row, which never wraps."""

    def db_type(self, connection) -> str:
        return "xid8"

    def from_db_value(self, value, expression, connection):
        return None if value is None else int(value)


def current_transaction_id():
    return models.Func(function="pg_current_xact_id", output_field=TransactionIdField())


class Event(models.Model):
    """A fact a service recorded. The organizations it concerns and its subject are plain ids: this
    app sits below the apps whose rows they are, so that every service can write here."""

    class Kind(models.TextChoices):
        TRANSFER_SUBMITTED = "transfer.submitted", "Transfer submitted"
        TRANSFER_ACCEPTED = "transfer.accepted", "Transfer accepted"
        TRANSFER_REJECTED = "transfer.rejected", "Transfer rejected"
        TRANSFER_WITHDRAWN = "transfer.withdrawn", "Transfer withdrawn"
        TRANSFER_EXPIRED = "transfer.expired", "Transfer expired"
        EXPORT_CONFIRMED = "export.confirmed", "Export confirmed"
        EXPORT_REJECTED = "export.rejected", "Export rejected"
        RETIREMENT_MADE = "retirement.made", "Certificates retired"
        UPLOAD_FINISHED = "upload.finished", "Mass upload finished"
        GENERATOR_DECIDED = "generator.decided", "Generator approved or sent back"
        WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled", "Webhook endpoint disabled by the registry"
        # One per organization and issuance transaction (an issuance run keeps an organization's generators
        # in one while they fit): data["issuance_ids"], the issuances that issued certificates. Staff's own
        # issuance of one generator's period (certificates.services.certificate_issue) names the certificate
        # instead, data["certificate_ids"]: nobody is emailed of it, and the public statistics count both.
        CERTIFICATES_ISSUED = "certificates.issued", "Certificates issued"
        # One per organization and issuance transaction: data["run_ids"], the runs its managers must hear of.
        INSTRUCTIONS_SKIPPED = "instructions.skipped", "Standing instructions skipped"
        # A member joined (an invitation accepted), was given another role or was removed: the subject is the
        # user, data["change"] one of "joined", "role_changed", "removed", data["role"] the role it left them.
        MEMBER_CHANGED = "member.changed", "Member joined, changed role or removed"
        # A user turned two-factor sign-in on or off (data["on"]): the subject is the user, of no organization.
        TWO_FACTOR_CHANGED = "user.two_factor_changed", "Two-factor sign-in turned on or off"
        # Registry staff's daily reminder of the generator eligibilities whose good-through date is near, of
        # no organization: data["eligibility_ids"], each reminded once (certificates.generator_services).
        ELIGIBILITIES_EXPIRING = "eligibilities.expiring", "Generator eligibilities expiring soon"
        # An organization was invited to join a program (the subject is the ProgramParticipation): its managers
        # are emailed, to accept or decline on its Programs page.
        PROGRAM_INVITED = "program.invited", "Invited to join a program"
        # Registry staff rolled back a generator's issuance (issuance.corrections): the subject is the Issuance, the
        # organization the generator's owner; data["quantity"] voided (0 when it issued none), data["generator"]
        # (its code), data["month"] (ISO date of its first day), data["batch_ids"], data["reason"].
        ISSUANCE_ROLLED_BACK = "issuance.rolled_back", "Issuance rolled back"
        # Registry staff voided batches an organization held (certificates.services.batches_void, e.g. a
        # correction's debit): data["quantity"], data["batch_ids"], data["reason"]. A rollback records
        # issuance.rolled_back instead, not this as well, so that nothing counts the quantity twice.
        CERTIFICATES_VOIDED = "certificates.voided", "Certificates voided"
        # Registry staff approved corrections of issued months of the organization's generators
        # (issuance.adjustments): data["correction_ids"]. The new certificates also make a certificates.issued
        # event (data["certificate_ids"]), which the public statistics count.
        ISSUANCE_ADJUSTED = "issuance.adjusted", "Issued month corrected"
        # Registry staff refused a correction of an issued month: the subject is the Correction.
        CORRECTION_REFUSED = "correction.refused", "Correction of an issued month refused"
        # Billing (billing.services): the subject is the Invoice, the organization the one it bills. Issued at a
        # period's end; due soon (its schedule's reminder_days before its due date, once); overdue (the day after
        # its due date, once, if unpaid); paid (nothing left owed, by a payment or a credit note).
        INVOICE_ISSUED = "invoice.issued", "Invoice issued"
        INVOICE_DUE_SOON = "invoice.due_soon", "Invoice due soon"
        INVOICE_OVERDUE = "invoice.overdue", "Invoice overdue"
        INVOICE_PAID = "invoice.paid", "Invoice paid"
        # An import by conversion (imports.services.import_record, then the recipient's decision through the
        # transfer lifecycle): the subject is the import's Transfer, the organization the tracking system's
        # stand-in, the other organization the recipient. data["transfer_kind"] is "import".
        IMPORT_RECORDED = "import.recorded", "Certificates imported, waiting for the recipient"
        IMPORT_ACCEPTED = "import.accepted", "Import accepted"
        IMPORT_REJECTED = "import.rejected", "Import rejected (its certificates voided, to return)"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=40, choices=Kind)
    occurred_at = models.DateTimeField(default=timezone.now)
    # The organization that acted or owns the subject, and the other one concerned (a transfer's
    # recipient), if any.
    organization_id = models.BigIntegerField(null=True, blank=True)
    other_organization_id = models.BigIntegerField(null=True, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)  # a transfer's or an upload's id, by kind
    data = models.JSONField(default=dict, blank=True)
    # The writing transaction: consumers read events in (txid, id) order, only once every
    # transaction that could still write one before their cursor has ended (events.services).
    txid = TransactionIdField(db_default=current_transaction_id(), editable=False)

    class Meta:
        indexes = [models.Index(fields=["txid", "id"], name="event_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_id or ''} (event {self.pk})"


class ConsumerProgress(models.Model):
    """How far one consumer has claimed the events: every event at or before (txid, event_id) has
    its claim, or was not of a kind the consumer wants."""

    consumer = models.CharField(max_length=40, primary_key=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "consumer progress"

    def __str__(self) -> str:
        return f"{self.consumer} at event {self.event_id}"


class Claim(models.Model):
    """One event owed to one consumer: deleted once its handler succeeds; after a failure tried again
    at due_at (exponential backoff), and set aside after EVENTS_MAX_ATTEMPTS failures until staff
    try it again from the admin. A worker running it holds it until leased_until."""

    consumer = models.CharField(max_length=40)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="claims")
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    set_aside_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "event"], name="claim_once_per_consumer")]
        indexes = [models.Index(fields=["consumer", "due_at"], condition=models.Q(set_aside_at__isnull=True),
                                name="claim_due")]

    def __str__(self) -> str:
        return f"{self.event} for {self.consumer}"
