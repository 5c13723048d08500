"""Queueing a task from a service, by the task's name, and waking a Celery worker after a commit that
owes it work (emails, webhook deliveries), cheaply.

An app's tasks import its services and never the other way round (pyproject.toml's contract "Only
Celery imports the tasks"): a service names the task it queues, as beat's schedule does."""

import importlib
import logging
import time

from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def task_send(name: str, *args) -> None:
    """Queue the task called `name` ("mass_uploads.tasks.process_mass_upload") with `args`, routed as its
    own delay() would be (CELERY_TASK_ROUTES go by name). Under CELERY_TASK_ALWAYS_EAGER (the tests, a
    development run without a worker) the task runs here, as delay() runs it: send_task ignores that
    setting, so this is the one place that imports a tasks module for a service, and only then."""
    if current_app.conf.task_always_eager:
        importlib.import_module(name.rpartition(".")[0])
        current_app.tasks[name].delay(*args)
    else:
        current_app.send_task(name, args)


def task_wake(name: str, *args, owed: str) -> bool:
    """Queue the task called `name` with `args` (none, or what it works for: an events consumer's
    name), which does all that is `owed`. The change that owes it has committed: a broker that is away
    is logged, not shown to the user, and the work waits for the next wake-up or beat. Whether the
    broker took it."""
    try:
        task_send(name, *args)
    except OperationalError as error:
        logger.warning("The broker did not take the wake-up for %s (%s); they wait for the next wake-up "
                       "or beat.", owed, error)
        return False
    return True


class Wakeup:
    """After a commit that owes work, wake a worker to do it (task_wake): at most one message per
    NOTIFICATION_NUDGE_SECONDS per process, so a burst of commits costs one broker publish, and
    whatever a skipped wake-up leaves is done by the next one or by beat."""

    # While the broker is away a publish fails only after about a second of retries: wait this long
    # before trying again, rather than make every commit pay it.
    BACKOFF_SECONDS = 30

    def __init__(self, task_name: str, *args, owed: str):
        self.task_name, self.args, self.owed = task_name, args, owed
        self.last = float("-inf")

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last < settings.NOTIFICATION_NUDGE_SECONDS:
            return
        self.last = now
        if not task_wake(self.task_name, *self.args, owed=self.owed):
            self.last = now + self.BACKOFF_SECONDS
