from celery import shared_task
from django.utils import timezone

from .services import program_accounts_freeze


@shared_task(acks_late=True)
def freeze_closed_program_accounts() -> int:
    """Beat's: the retirement accounts of programs past their close date freeze."""
    return program_accounts_freeze(now=timezone.now())
