"""Waking a Celery worker after a commit that owes it work (emails, webhook deliveries), cheaply."""

import logging
import time

from django.conf import settings
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class Wakeup:
    """After a commit that owes work, wake a worker to do it (`task`, taking no arguments, does all
    that is owed): at most one message per NOTIFICATION_NUDGE_SECONDS per process, so a burst of
    commits costs one broker publish, and whatever a skipped wake-up leaves is done by the next one or
    by beat. The change has committed: a broker that is away is logged, not shown to the user, and the
    work waits for the next wake-up or beat."""

    # While the broker is away a publish fails only after about a second of retries: wait this long
    # before trying again, rather than make every commit pay it.
    BACKOFF_SECONDS = 30

    def __init__(self, task, *, owed: str):
        self.task, self.owed = task, owed
        self.last = float("-inf")

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last < settings.NOTIFICATION_NUDGE_SECONDS:
            return
        self.last = now
        try:
            self.task.delay()
        except OperationalError as error:
            self.last = now + self.BACKOFF_SECONDS
            logger.warning("The broker did not take the wake-up for %s (%s); they wait for the next wake-up "
                           "or beat.", self.owed, error)
