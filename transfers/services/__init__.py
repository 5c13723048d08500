"""Every write of a transfer, by capability: the lifecycle of a transfer (lifecycle) and the wizard's
draft (drafts). Callers import from here. Retirements (retirements.services) and mass uploads
(mass_uploads.services) write transfers through transfer_write."""

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
    export_answered,
    export_confirm,
    export_reject,
    import_transfer_rows,
    transfer_accept,
    transfer_create,
    transfer_expire,
    transfer_reject,
    transfer_withdraw,
    transfer_write,
    transfers_expire,
)

__all__ = [
    "AlreadyInAccount", "BatchChanged", "CannotReceive", "DraftAlreadySubmitted", "NotPending", "NotYourDecision",
    "TransferConflict",
    "Destination", "TransferLine", "TransferRefused", "export_answered", "export_confirm", "export_reject",
    "import_transfer_rows",
    "transfer_accept",
    "transfer_create", "transfer_draft_fail",
    "transfer_draft_save", "transfer_draft_start", "transfer_expire", "transfer_reject", "transfer_withdraw",
    "transfer_write", "transfers_expire",
]
