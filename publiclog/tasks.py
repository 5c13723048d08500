from celery import shared_task


@shared_task(acks_late=True)
def sign_log_checkpoint() -> int | None:
    """Beat's, every PUBLICLOG_CHECKPOINT_SECONDS: a signed checkpoint of the log if it grew, then
    the witnesses asked to cosign the latest (after the signing's transaction: they are asked over
    the network)."""
    from .services import checkpoint_cosignatures_ask, checkpoint_sign

    checkpoint = checkpoint_sign()
    checkpoint_cosignatures_ask()
    return checkpoint.size if checkpoint else None
