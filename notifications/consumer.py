"""The emails, as a consumer of the domain events: which email each kind of event sends. A failure
(a mail server that refuses an address, or is down) fails only that event's claim, which is tried
again later (events.services); no other email and no webhook waits for it."""

from events.models import Event

from .adjustments import corrections_decided_email_send
from .billing import invoice_due_soon_email_send, invoice_issued_email_send, invoice_overdue_email_send
from .corrections import rollback_email_send, voided_email_send
from .eligibilities import eligibilities_expiring_email_send
from .generators import generator_decision_email_send
from .instructions import instruction_notice_send
from .issuance import issuance_notice_send
from .programs import program_invitation_email_send
from .transfers import GROUPED_BY_UPLOAD, mass_transfers_notify, mass_upload_notify, transfer_notify
from .webhooks import endpoint_disabled_email_send

Kind = Event.Kind


def not_emailed(kind: str, data: dict) -> bool:
    """A mass upload's new transfer or retirement: emailed with the upload's own event, not alone.
    Certificates staff issued by hand, outside an issuance run (no issuance_ids): no email, as before."""
    if kind == Kind.CERTIFICATES_ISSUED:
        return not data.get("issuance_ids")
    return kind in GROUPED_BY_UPLOAD and bool(data.get("mass_upload_id"))


def _transfer_step(event: Event) -> int:
    return transfer_notify(transfer_id=event.subject_id, event_kind=event.kind)


def _upload_finished(event: Event) -> int:
    """The uploader's email, and the grouped emails of what the upload made to each organization
    concerned (notifications.transfers)."""
    return mass_upload_notify(upload_id=event.subject_id) + mass_transfers_notify(upload_id=event.subject_id)


EMAILS = {
    Kind.TRANSFER_SUBMITTED: _transfer_step,
    Kind.TRANSFER_ACCEPTED: _transfer_step,
    Kind.TRANSFER_REJECTED: _transfer_step,
    Kind.TRANSFER_WITHDRAWN: _transfer_step,
    Kind.TRANSFER_EXPIRED: _transfer_step,
    Kind.EXPORT_CONFIRMED: _transfer_step,
    Kind.EXPORT_REJECTED: _transfer_step,
    Kind.RETIREMENT_MADE: _transfer_step,
    Kind.IMPORT_RECORDED: _transfer_step,
    Kind.IMPORT_ACCEPTED: _transfer_step,
    Kind.IMPORT_REJECTED: _transfer_step,
    Kind.UPLOAD_FINISHED: _upload_finished,
    Kind.GENERATOR_DECIDED: lambda event: generator_decision_email_send(generator_id=event.subject_id),
    Kind.WEBHOOK_ENDPOINT_DISABLED: lambda event: endpoint_disabled_email_send(endpoint_id=event.subject_id),
    Kind.CERTIFICATES_ISSUED: lambda event: issuance_notice_send(organization_id=event.organization_id,
                                                                 issuance_ids=event.data["issuance_ids"]),
    Kind.INSTRUCTIONS_SKIPPED: lambda event: instruction_notice_send(organization_id=event.organization_id,
                                                                     run_ids=event.data["run_ids"]),
    Kind.ELIGIBILITIES_EXPIRING: lambda event: eligibilities_expiring_email_send(
        eligibility_ids=event.data["eligibility_ids"]),
    Kind.PROGRAM_INVITED: lambda event: program_invitation_email_send(participation_id=event.subject_id),
    Kind.ISSUANCE_ROLLED_BACK: lambda event: rollback_email_send(issuance_id=event.subject_id),
    Kind.CERTIFICATES_VOIDED: lambda event: voided_email_send(organization_id=event.organization_id,
                                                              batch_ids=event.data["batch_ids"],
                                                              reason=event.data["reason"]),
    Kind.ISSUANCE_ADJUSTED: lambda event: corrections_decided_email_send(organization_id=event.organization_id,
                                                                         correction_ids=event.data["correction_ids"]),
    Kind.CORRECTION_REFUSED: lambda event: corrections_decided_email_send(organization_id=event.organization_id,
                                                                          correction_ids=event.data["correction_ids"]),
    Kind.INVOICE_ISSUED: lambda event: invoice_issued_email_send(invoice_id=event.subject_id),
    Kind.INVOICE_DUE_SOON: lambda event: invoice_due_soon_email_send(invoice_id=event.subject_id),
    Kind.INVOICE_OVERDUE: lambda event: invoice_overdue_email_send(invoice_id=event.subject_id),
}


def emails_send(event: Event) -> int:
    """Send the emails of `event`. Returns how many were sent."""
    return EMAILS[event.kind](event)
