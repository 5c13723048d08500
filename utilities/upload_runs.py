"""A stored CSV upload (a utilities.csv_upload.CsvUploadRecord) processed by a worker, all or nothing,
exactly once: the mass transfers' and retirements' (mass_uploads/services.py) and the
generation data's (issuance/services.py).

An upload always ends, completed or failed, whatever happens to the worker running it:
- a task works on an upload only while it holds the upload's row lock (taken with SKIP LOCKED on that
  row alone); a task that finds the lock held raises UploadBusy, and the task retries later;
- each attempt is counted in its own committed transaction before the work starts, so a worker killed
  halfway leaves the count behind; past MASS_UPLOAD_MAX_ATTEMPTS the upload fails with a reason;
- a periodic sweep re-queues uploads left queued or processing whose row lock nobody holds (a worker
  that died, a message the broker lost);
- an unexpected error fails the upload with a message and the email, after rolling back its work.

The upload model has a Status with QUEUED, PROCESSING, FAILED and COMPLETED, foreign keys
`organization` and `uploaded_by`, and `nothing_done` (how a failure begins: "Nothing was transferred").
"""

import datetime
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from .csv_upload import RowError

logger = logging.getLogger(__name__)

# The work on a locked upload, in its transaction: (errors, row count). It applies only if there
# are no errors; an error raised rolls it back.
Work = Callable[[Model], tuple[list[RowError], int | None]]


class UploadBusy(Exception):
    """Another task holds this upload's row lock: it is being processed (or its dead worker's
    database session has not ended yet). The task tries again later."""


def upload_lock(model: type[Model], upload_id: int) -> Model | None:
    """The upload's own row, locked, or None when another session holds it (`of` keeps the lock
    off the organization and user rows, which other uploads of the same organization share)."""
    return (model.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organization", "uploaded_by").filter(pk=upload_id).first())


def upload_finish(upload: Model, *, errors: list[RowError], row_count: int | None,
                  notify: Callable[[int], None] | None = None, finished: Callable[[Model], None] | None = None) -> str:
    """Mark a processing upload completed (no errors) or failed, and owe its email (`notify`, if
    given); `finished`, if given, is called with the upload in the same transaction when this call is
    the one that finished it (where a domain event is recorded)."""
    model = type(upload)
    status = model.Status.FAILED if errors else model.Status.COMPLETED
    if model.objects.filter(pk=upload.pk, status=model.Status.PROCESSING).update(
            status=status, errors=[error.as_dict() for error in errors], row_count=row_count,
            finished_at=timezone.now()) and finished:
        finished(upload)
    if notify:
        notify(upload.pk)
    return status


def _attempt_start(model: type[Model], upload_id: int, notify: Callable[[int], None] | None,
                   finished: Callable[[Model], None] | None) -> str | None:
    """Count a new attempt, committed before the work starts. Returns the upload's final status
    when there is nothing (more) to do, None when the work should go ahead."""
    Status = model.Status
    with transaction.atomic():
        upload = upload_lock(model, upload_id)
        if upload is None:
            if model.objects.filter(pk=upload_id).exists():
                raise UploadBusy(upload_id)
            return "missing"
        if upload.status not in (Status.QUEUED, Status.PROCESSING):
            return upload.status  # completed, failed, held or discarded: nothing to do
        if upload.attempts >= settings.MASS_UPLOAD_MAX_ATTEMPTS:
            model.objects.filter(pk=upload.pk).update(status=Status.PROCESSING)
            upload.status = Status.PROCESSING
            return upload_finish(upload, row_count=upload.row_count, notify=notify, finished=finished, errors=[RowError(
                0, "", "", f"{upload.nothing_done}: processing this file was interrupted {upload.attempts} times. "
                           "Upload it again; if this happens again, contact the registry.")])
        model.objects.filter(pk=upload.pk).update(
            status=Status.PROCESSING, attempts=upload.attempts + 1, started_at=timezone.now())
    return None


def upload_process(model: type[Model], upload_id: int, *, work: Work, notify: Callable[[int], None] | None = None,
                   finished: Callable[[Model], None] | None = None) -> str:
    """Run `work` on the upload once, and finish it completed or failed.

    Exactly once: the work runs in one transaction that holds the upload's row lock and ends by
    marking it completed or failed. A worker killed halfway leaves nothing applied and the upload
    processing with its attempt counted; a redelivered or re-queued task takes it up again.
    `finished` is called in the transaction that finishes the upload. Raises UploadBusy when
    another task holds the upload.
    """
    final = _attempt_start(model, upload_id, notify, finished)
    if final is not None:
        return final
    try:
        with transaction.atomic():
            upload = upload_lock(model, upload_id)
            if upload is None:
                raise UploadBusy(upload_id)  # a duplicate task took it in between: it finishes it
            if upload.status != model.Status.PROCESSING:
                return upload.status
            errors, row_count = work(upload)
            return upload_finish(upload, errors=errors, row_count=row_count, notify=notify, finished=finished)
    except UploadBusy:
        raise
    except Exception:
        # Everything the attempt did is rolled back; the upload must still end, with a reason.
        logger.exception("upload %s %s failed unexpectedly", model.__name__, upload_id)
        with transaction.atomic():
            upload = upload_lock(model, upload_id)
            if upload is None or upload.status != model.Status.PROCESSING:
                raise
            return upload_finish(upload, row_count=None, notify=notify, finished=finished, errors=[RowError(
                0, "", "", f"{upload.nothing_done}: an unexpected error stopped the processing of this file. "
                           "The registry has been told; try again later, or contact the registry.")])


def uploads_requeue_stalled(model: type[Model], *, queue: Callable[[int], None],
                            now: datetime.datetime | None = None) -> list[int]:
    """Queue again (`queue`, after commit) the uploads that no worker holds although they are queued
    or processing and older than MASS_UPLOAD_STALLED_SECONDS: their worker died, or the broker lost
    their message. A live task holds its upload's row lock, so the locks we can take here are the
    stalled ones."""
    Status = model.Status
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.MASS_UPLOAD_STALLED_SECONDS)
    with transaction.atomic():
        stalled = list(
            model.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(Q(status=Status.PROCESSING, started_at__lt=cutoff)
                    | Q(status=Status.QUEUED, created_at__lt=cutoff))
            .values_list("pk", flat=True))
        for upload_id in stalled:
            queue(upload_id)
    if stalled:
        logger.warning("re-queued stalled %s uploads %s", model.__name__, stalled)
    return stalled
