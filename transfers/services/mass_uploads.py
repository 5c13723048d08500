"""Mass certificate transfers and retirements: a CSV stored, then validated and applied by a worker,
all or nothing.

An upload always ends, completed or failed, whatever happens to the worker running it:
- a task works on an upload only while it holds the upload's row lock (taken with SKIP LOCKED on that
  row alone); a task that finds the lock held raises UploadBusy, and the task retries later;
- each attempt is counted in its own committed transaction before the work starts, so a worker killed
  halfway leaves the count behind; past MASS_UPLOAD_MAX_ATTEMPTS the upload fails with a reason;
- a periodic sweep re-queues uploads left queued or processing whose row lock nobody holds (a worker
  that died, a message the broker lost);
- an unexpected error fails the upload with a message and the email, after rolling back its work.
"""

import contextlib
import datetime
import functools
import gc
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from registry.models import Organization, User
from registry.services import ServiceError, role_require
from utilities import csv_upload

from .. import mass
from ..models import MassTransferUpload, RetirementOption, Transfer
from .lifecycle import Destination, TransferLine, TransferRefused, transfer_write
from .retirements import RetirementDetails, retirement_write

logger = logging.getLogger(__name__)
Status = MassTransferUpload.Status


class UploadBusy(Exception):
    """Another task holds this upload's row lock: it is being processed (or its dead worker's
    database session has not ended yet). The task tries again later."""


def mass_upload_create(*, organization: Organization, user: User, upload, confirm_duplicate: bool = False,
                       kind: str = MassTransferUpload.Kind.TRANSFER) -> MassTransferUpload:
    """Store an uploaded CSV of transfers or retirements (`kind`) and queue it after commit. The
    same file from the same organization within a day is held until the uploader confirms it (so
    nothing is transferred or retired twice by mistake)."""
    role_require(user=user, organization=organization)
    raw = upload.read()
    problem = csv_upload.file_problem(raw)
    if problem:
        raise TransferRefused(problem)
    digest = hashlib.sha256(raw).hexdigest()
    recent = MassTransferUpload.objects.filter(
        organization=organization, sha256=digest, created_at__gte=timezone.now() - datetime.timedelta(days=1)
    ).exclude(status=Status.DISCARDED).exists()
    status = Status.HELD if recent and not confirm_duplicate else Status.QUEUED
    record = MassTransferUpload(organization=organization, uploaded_by=user, kind=kind, filename=upload.name[:255],
                                sha256=digest, size=len(raw), status=status)
    record.file.save(f"{digest}.csv", ContentFile(raw), save=False)
    record.save()
    if status == Status.QUEUED:
        _queue_after_commit(record.pk)
    return record


def _queue_after_commit(upload_id: int) -> None:
    from ..tasks import process_mass_upload

    # The upload has committed: a broker that is away is logged (robust), not shown to the uploader,
    # and the stalled-upload sweep queues it again.
    transaction.on_commit(functools.partial(process_mass_upload.delay, upload_id), robust=True)


def _notify_after_commit(upload_id: int) -> None:
    from ..tasks import send_mass_upload_notification

    send_mass_upload_notification.delay_on_commit(upload_id)


@transaction.atomic(durable=True)
def mass_upload_release(*, upload: MassTransferUpload, user: User, process: bool) -> None:
    """The uploader confirms a held duplicate (it is queued) or discards it."""
    role_require(user=user, organization=upload.organization)
    status = Status.QUEUED if process else Status.DISCARDED
    held = MassTransferUpload.objects.filter(pk=upload.pk, status=Status.HELD)
    if held.update(status=status) != 1:
        raise TransferRefused("This upload is no longer waiting for confirmation.")
    upload.status = status
    if process:
        _queue_after_commit(upload.pk)


def _lock_upload(upload_id: int) -> MassTransferUpload | None:
    """The upload's own row, locked, or None when another session holds it (`of` keeps the lock
    off the organization and user rows, which other uploads of the same organization share)."""
    return (MassTransferUpload.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organization", "uploaded_by").filter(pk=upload_id).first())


def _finish(upload: MassTransferUpload, *, errors: list, row_count: int | None) -> str:
    """Mark a processing upload completed (no errors) or failed, and owe its email."""
    status = Status.FAILED if errors else Status.COMPLETED
    MassTransferUpload.objects.filter(pk=upload.pk, status=Status.PROCESSING).update(
        status=status, errors=[error.as_dict() for error in errors], row_count=row_count,
        finished_at=timezone.now())
    _notify_after_commit(upload.pk)
    return status


def _attempt_start(upload_id: int) -> str | None:
    """Count a new attempt, committed before the work starts. Returns the upload's final status
    when there is nothing (more) to do, None when the work should go ahead."""
    with transaction.atomic():
        upload = _lock_upload(upload_id)
        if upload is None:
            if MassTransferUpload.objects.filter(pk=upload_id).exists():
                raise UploadBusy(upload_id)
            return "missing"
        if upload.status not in (Status.QUEUED, Status.PROCESSING):
            return upload.status  # completed, failed, held or discarded: nothing to do
        if upload.attempts >= settings.MASS_UPLOAD_MAX_ATTEMPTS:
            MassTransferUpload.objects.filter(pk=upload.pk).update(status=Status.PROCESSING)
            upload.status = Status.PROCESSING
            return _finish(upload, row_count=upload.row_count, errors=[csv_upload.RowError(
                0, "", "", f"{upload.nothing_done}: processing this file was interrupted {upload.attempts} times. "
                           "Upload it again; if this happens again, contact the registry.")])
        MassTransferUpload.objects.filter(pk=upload.pk).update(
            status=Status.PROCESSING, attempts=upload.attempts + 1, started_at=timezone.now())
    return None


def mass_upload_process(*, upload_id: int) -> str:
    """Validate every row, then apply all of them in one transaction, or none.

    Exactly once: the work runs in one transaction that holds the upload's row lock and ends by
    marking it completed or failed. A worker killed halfway leaves nothing applied and the upload
    processing with its attempt counted; a redelivered or re-queued task takes it up again.
    Raises UploadBusy when another task holds the upload.
    """
    finished = _attempt_start(upload_id)
    if finished is not None:
        return finished
    try:
        with transaction.atomic():
            upload = _lock_upload(upload_id)
            if upload is None:
                raise UploadBusy(upload_id)  # a duplicate task took it in between: it finishes it
            if upload.status != Status.PROCESSING:
                return upload.status
            with upload.file.open("rb") as stored:
                raw = stored.read()
            validate, apply = ((mass.validate_retirements, _mass_retire) if upload.is_retirement
                               else (mass.validate, _mass_apply))
            rows, errors, row_count = validate(raw, upload.organization)
            if not errors:
                try:
                    with transaction.atomic(), _cyclic_gc_paused():
                        apply(upload, rows)
                except ServiceError as error:  # the ledger moved between validation and apply
                    errors = [csv_upload.RowError(0, "", "", f"{upload.nothing_done}: {error}")]
            return _finish(upload, errors=errors, row_count=row_count)
    except UploadBusy:
        raise
    except Exception:
        # Everything the attempt did is rolled back; the upload must still end, with a reason.
        logger.exception("mass upload %s failed unexpectedly", upload_id)
        with transaction.atomic():
            upload = _lock_upload(upload_id)
            if upload is None or upload.status != Status.PROCESSING:
                raise
            return _finish(upload, row_count=None, errors=[csv_upload.RowError(
                0, "", "", f"{upload.nothing_done}: an unexpected error stopped the processing of this file. "
                           "The registry has been told; try again later, or contact the registry.")])


def mass_uploads_requeue_stalled(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue again the uploads that no worker holds although they are queued or processing and
    older than MASS_UPLOAD_STALLED_SECONDS: their worker died, or the broker lost their message.
    A live task holds its upload's row lock, so the locks we can take here are the stalled ones.
    Run by beat every MASS_UPLOAD_SWEEP_SECONDS."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.MASS_UPLOAD_STALLED_SECONDS)
    with transaction.atomic():
        stalled = list(
            MassTransferUpload.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(Q(status=Status.PROCESSING, started_at__lt=cutoff)
                    | Q(status=Status.QUEUED, created_at__lt=cutoff))
            .values_list("pk", flat=True))
        for upload_id in stalled:
            _queue_after_commit(upload_id)
    if stalled:
        logger.warning("re-queued stalled mass uploads %s", stalled)
    return stalled


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Python's cycle collector rescans every live object again and again while a 100,000-row
    transfer builds its rows, a quarter of the apply's CPU; those rows hold no reference cycles
    (reference counting frees them), so the collector is paused for the apply and resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _apply_groups(upload: MassTransferUpload, groups: dict[tuple, list], write) -> list[Transfer]:
    """One transfer per group of rows, made by `write(key, lines)` in the upload's transaction; rows
    on the same batch take successive serials (each from what the previous left)."""
    current: dict[int, int] = {}  # batch named in the file -> the batch now holding its remaining serials
    transfers = []
    for key, members in groups.items():
        quantities: dict[int, int] = {}
        for row in members:
            quantities[row.batch_id] = quantities.get(row.batch_id, 0) + row.quantity
        lines = [TransferLine(current.get(batch_id, batch_id), quantity) for batch_id, quantity in quantities.items()]
        transfer = write(key, lines)
        by_current = {current.get(batch_id, batch_id): batch_id for batch_id in quantities}
        for source_id, remainder_id in transfer.remainders.items():
            if remainder_id is not None:
                current[by_current[source_id]] = remainder_id
        transfers.append(transfer)
    Transfer.objects.filter(pk__in=[t.pk for t in transfers]).update(mass_upload=upload)
    return transfers


def _mass_apply(upload: MassTransferUpload, rows: list) -> list[Transfer]:
    """One transfer per destination and note, through transfer_write."""
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault((row.organization_id, row.account_id, row.notes), []).append(row)
    accounts = Account.objects.in_bulk({row.account_id for row in rows if row.account_id})
    recipients = Organization.objects.in_bulk({row.organization_id for row in rows if row.organization_id})

    def write(key, lines):
        organization_id, account_id, notes = key
        destination = (Destination.internal(accounts[account_id]) if account_id
                       else Destination.to_organization(recipients[organization_id]))
        return transfer_write(organization=upload.organization, user=upload.uploaded_by, lines=lines,
                              destination=destination, notes=notes)

    return _apply_groups(upload, groups, write)


def _mass_retire(upload: MassTransferUpload, rows: list) -> list[Transfer]:
    """One retirement per retirement account, details and note, through retirement_write."""
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault((row.account_id, row.option_id, row.compliance_period, row.period_start, row.period_end,
                           row.beneficiary, row.notes), []).append(row)
    accounts = Account.objects.in_bulk({row.account_id for row in rows})
    options = RetirementOption.objects.in_bulk({row.option_id for row in rows})

    def write(key, lines):
        account_id, option_id, compliance_period, period_start, period_end, beneficiary, notes = key
        details = RetirementDetails(option=options[option_id], compliance_period=compliance_period,
                                    period_start=period_start, period_end=period_end, beneficiary=beneficiary)
        return retirement_write(organization=upload.organization, user=upload.uploaded_by, lines=lines,
                                account=accounts[account_id], details=details, notes=notes)

    return _apply_groups(upload, groups, write)
