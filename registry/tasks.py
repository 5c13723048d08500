from celery import shared_task
from django.core.management import call_command


@shared_task(acks_late=True)
def clear_expired_sessions() -> None:
    """Sessions live in PostgreSQL: delete the rows past their expiry (Django's clearsessions)."""
    call_command("clearsessions")
