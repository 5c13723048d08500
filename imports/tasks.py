from celery import shared_task


@shared_task
def send_reconciliations() -> int:
    """Beat, daily: reconcile with every registry running this project (imports.reconciling). Named send_*:
    it waits on the other registries' servers, so the outbound queue's workers run it."""
    from .reconciling import registries_reconcile

    return sum(len(record.differences) for record in registries_reconcile())
