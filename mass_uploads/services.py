"""Mass certificate transfers and retirements: a CSV stored, then validated and applied by a worker,
all or nothing, exactly once (the run of a stored upload: utilities/upload_runs.py)."""

import contextlib
import datetime
import functools
import gc
import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from certificates.reviews import organization_refusal, review_today
from events.models import Event
from events.services import event_record
from registry.models import Organization, User
from registry.services import ServiceError, role_require
from retirements.models import RetirementOption
from retirements.services import RetirementDetails, retirement_write
from transfers.models import Transfer
from transfers.services import Destination, TransferConflict, TransferLine, TransferRefused, transfer_write
from utilities import csv_upload
from utilities.upload_runs import upload_process, uploads_requeue_stalled
from utilities.wakeups import task_send

from . import validation as mass
from .models import MassTransferUpload

Status = MassTransferUpload.Status


def mass_upload_create(*, organization: Organization, user: User, upload, confirm_duplicate: bool = False,
                       kind: str = MassTransferUpload.Kind.TRANSFER) -> MassTransferUpload:
    """Store an uploaded CSV of transfers or retirements (`kind`) and queue it after commit. The
    same file from the same organization within a day is held until the uploader confirms it (so
    nothing is transferred or retired twice by mistake). Not from an organization overdue for the annual
    generator review (certificates.reviews; the transfers it makes would be refused too)."""
    role_require(user=user, organization=organization)
    if overdue := organization_refusal(organization, review_today()):
        raise TransferRefused(overdue)
    raw = upload.read()
    problem = csv_upload.file_problem(raw)
    if problem:
        raise TransferRefused(problem, field="upload")
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
    # The upload has committed: a broker that is away is logged (robust), not shown to the uploader,
    # and the stalled-upload sweep queues it again.
    transaction.on_commit(functools.partial(task_send, "mass_uploads.tasks.process_mass_upload", upload_id),
                          robust=True)


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def mass_upload_release(*, upload: MassTransferUpload, user: User, process: bool) -> None:
    """The uploader confirms a held duplicate (it is queued) or discards it; an organization overdue for
    the annual generator review only discards it."""
    role_require(user=user, organization=upload.organization)
    if process and (overdue := organization_refusal(upload.organization, review_today())):
        raise TransferRefused(overdue)
    status = Status.QUEUED if process else Status.DISCARDED
    held = MassTransferUpload.objects.filter(pk=upload.pk, status=Status.HELD)
    if held.update(status=status) != 1:
        raise TransferConflict("This upload is no longer waiting for confirmation.")
    upload.status = status
    if process:
        _queue_after_commit(upload.pk)


def mass_upload_process(*, upload_id: int) -> str:
    """Validate every row, then apply all of them in one transaction, or none (upload_process:
    exactly once, an attempt counted each time). Raises UploadBusy when another task holds the upload."""
    return upload_process(MassTransferUpload, upload_id, work=_mass_work, finished=_finished)


def _finished(upload: MassTransferUpload) -> None:
    """In the transaction that finishes the upload, once: its domain event (the uploader's email,
    the grouped emails of what it made, the webhooks)."""
    event_record(kind=Event.Kind.UPLOAD_FINISHED, organization_id=upload.organization_id, subject_id=upload.pk,
                 data={"upload_kind": upload.kind})


def _mass_work(upload: MassTransferUpload) -> tuple[list, int]:
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
    return errors, row_count


def mass_uploads_requeue_stalled(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue again the mass uploads no worker holds (uploads_requeue_stalled). Run by beat every
    MASS_UPLOAD_SWEEP_SECONDS."""
    return uploads_requeue_stalled(MassTransferUpload, queue=_queue_after_commit, now=now)


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
    """One transfer per group of rows, made by `write(key, lines)` (naming the upload) in the upload's
    transaction; rows on the same batch take successive serials (each from what the previous left)."""
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
                              destination=destination, notes=notes, mass_upload_id=upload.pk)

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
                                account=accounts[account_id], details=details, notes=notes,
                                mass_upload_id=upload.pk)

    return _apply_groups(upload, groups, write)
