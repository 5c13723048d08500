"""Every write of a transfer, by capability: the lifecycle of a transfer (lifecycle), the wizard's
draft (drafts), retirements (retirements) and mass certificate transfers (mass_uploads). Callers import from here."""

from utilities.upload_runs import UploadBusy

from ..values import (
    AlreadyInAccount,
    BatchChanged,
    CannotReceive,
    Destination,
    DraftAlreadySubmitted,
    NotPending,
    NotYourDecision,
    TransferConflict,
    TransferLine,
    TransferRefused,
)
from .drafts import transfer_draft_fail, transfer_draft_save, transfer_draft_start
from .lifecycle import (
    export_confirm,
    export_reject,
    transfer_accept,
    transfer_create,
    transfer_expire,
    transfer_reject,
    transfer_withdraw,
    transfer_write,
    transfers_expire,
)
from .mass_uploads import (
    mass_upload_create,
    mass_upload_process,
    mass_upload_release,
    mass_uploads_requeue_stalled,
)
from .retirements import RetirementDetails, retirement_create, retirement_privacy_set, retirement_write

__all__ = [
    "AlreadyInAccount", "BatchChanged", "CannotReceive", "DraftAlreadySubmitted", "NotPending", "NotYourDecision",
    "TransferConflict",
    "Destination", "TransferLine", "TransferRefused", "RetirementDetails", "UploadBusy", "export_confirm",
    "export_reject", "mass_upload_create", "mass_upload_process", "mass_upload_release",
    "mass_uploads_requeue_stalled", "retirement_create", "retirement_privacy_set", "retirement_write",
    "transfer_accept", "transfer_create", "transfer_draft_fail",
    "transfer_draft_save", "transfer_draft_start", "transfer_expire", "transfer_reject", "transfer_withdraw",
    "transfer_write", "transfers_expire",
]
