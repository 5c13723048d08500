from celery import shared_task


@shared_task(acks_late=True)
def sign_log_checkpoint() -> int | None:
    """Beat's, every PUBLICLOG_CHECKPOINT_SECONDS: a signed checkpoint of the log if it grew."""
    from .services import checkpoint_sign

    checkpoint = checkpoint_sign()
    return checkpoint.size if checkpoint else None
