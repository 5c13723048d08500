from celery import shared_task


@shared_task(acks_late=True)
def issue_invoices() -> int:
    """Beat, daily: the invoices of the last period that ended (each organization's once)."""
    from django.utils import timezone

    from .services import invoices_issue_due

    return invoices_issue_due(now=timezone.now())


@shared_task(acks_late=True)
def charge_late_fees_and_inactivate() -> tuple[int, int]:
    """Beat, daily: a late fee once on each invoice unpaid after its due date, and the organizations
    unpaid too long inactivated (billing.services.billing_overdue_run)."""
    from .selectors import billing_today
    from .services import billing_overdue_run

    return billing_overdue_run(today=billing_today())


@shared_task(acks_late=True)
def remind_invoices_due() -> int:
    """Beat, daily: a reminder once of each unpaid invoice due within its schedule's reminder days."""
    from .selectors import billing_today
    from .services import invoice_reminders_run

    return invoice_reminders_run(today=billing_today())
