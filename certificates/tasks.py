from celery import shared_task


@shared_task(acks_late=True)
def remind_expiring_eligibilities() -> int:
    """Beat's daily reminder to registry staff of the eligibilities about to end (idempotent: each is
    reminded once)."""
    from .generator_services import eligibilities_remind

    return eligibilities_remind()


@shared_task(acks_late=True)
def expire_certificates() -> int:
    """Beat's hourly expiry of interval certificates past their expiry (idempotent: compare-and-swap)."""
    from .services import certificates_expire

    return certificates_expire()
