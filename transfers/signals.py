"""What the apps above transfers may listen to, sent inside the transaction of the change, so that
whatever a receiver writes commits or rolls back with it (webhooks owes its deliveries this way)."""

from django.dispatch import Signal

# A transfer's step is consumed from the outbox (TransferNotification), in the drain's transaction:
# sender=Transfer, transfer_id=<int>, event_kind=<LedgerEvent.Kind>, occurred_at=<when the step was taken>.
transfer_event_owed = Signal()

# A mass upload ended, completed or failed, in the transaction that marks it so:
# sender=MassTransferUpload, upload_id=<int>.
mass_upload_finished = Signal()
