from celery import shared_task


@shared_task(acks_late=True)
def issue_invoices() -> int:
    """Beat, daily: the invoices of the last period that ended (each organization's once)."""
    from django.utils import timezone

    from .services import invoices_issue_due

    return invoices_issue_due(now=timezone.now())
