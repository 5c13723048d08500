"""Helpers of the generation and issuance tests."""

import datetime
from decimal import Decimal

from django.utils import timezone

from issuance.models import GenerationReport


def last_month(months_back: int = 1) -> datetime.date:
    """The first day of the month `months_back` months before the current one."""
    month = timezone.localdate().replace(day=1)
    for _ in range(months_back):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return month


def report(generator, month: datetime.date, mwh: str, user) -> GenerationReport:
    return GenerationReport.objects.create(generator=generator, month=month, mwh=Decimal(mwh), submitted_by=user)
