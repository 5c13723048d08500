from celery import shared_task


@shared_task(acks_late=True)
def send_events(consumer: str) -> int:
    """Run what `consumer` is owed (woken after a commit that recorded events it wants). Named send_*:
    the outbound queue's workers run it, so that a slow mail server or receiver holds up no upload,
    issuance or expiry."""
    from .services import events_consume

    return events_consume(consumer=consumer)


@shared_task(acks_late=True)
def send_events_to_every_consumer() -> int:
    """Beat's safety net (every NOTIFICATION_SEND_SECONDS): one task per consumer, each apart, so that
    one slow consumer holds up no other."""
    from .consumers import consumers_all

    for consumer in consumers_all():
        send_events.delay(consumer.name)
    return len(consumers_all())
