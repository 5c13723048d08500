"""Imports by conversion (issue #32, item 1): registry staff record certificates another tracking system
retired there for this registry; they are issued again here, pending for their recipient, who accepts
them into an active account or rejects them (then they are voided, and staff are emailed to return
them) through the transfer lifecycle, as a transfer from another organization is decided."""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import organizations_able_to_receive
from certificates.generator_services import generator_code_next, generator_record, tidy
from certificates.models import Generator
from certificates.services import ImportLine, certificate_import_write
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import Organization, TrackingSystem, User
from registry.services import ServiceError, staff_require
from transfers.services import import_transfer_rows

from .models import Import, ImportSource
from .values import ImportDetails


class ImportRefused(ServiceError):
    """An import refused, by field (ImportDetails.problems' keys), with `row` when it came from a file."""

    def __init__(self, problems: dict[str, str], row: int | None = None):
        self.problems, self.row = problems, row
        super().__init__(" ".join(problems.values()))


def _source_for(*, user: User, tracking_system: TrackingSystem) -> ImportSource:
    """The tracking system's ImportSource, made on its first import: its stand-in organization and the
    reserve account its imports wait in. The tracking system's row is locked first, so two first imports
    of one system make one."""
    TrackingSystem.objects.select_for_update().get(pk=tracking_system.pk)
    source = ImportSource.objects.select_related("organization", "account").filter(
        tracking_system=tracking_system).first()
    if source is not None:
        return source
    name = f"{tracking_system.name} (imports)"
    if Organization.objects.filter(name=name).exists():
        name = f"{tracking_system.name} ({tracking_system.code} imports)"
    organization = Organization.objects.create(name=name)
    account = Account.objects.create(organization=organization, name=f"Imports from {tracking_system.code}",
                                     type=Account.Type.RESERVE)
    ledger_record(kind=LedgerEvent.Kind.ACCOUNT_OPENED, actor=user, organization=organization, account=account,
                  after={"name": account.name, "type": account.type, "status": account.status,
                         "tracking_system": tracking_system.code})
    return ImportSource.objects.create(tracking_system=tracking_system, organization=organization, account=account)


def _generator_for(*, user: User, source: ImportSource, details: ImportDetails) -> Generator:
    """The import generator of this source with the generator's id there, or a new one: approved by the
    staff member recording the import, marked imported (never issued for here), owned by the stand-in."""
    source_code = tidy(details.generator_id)
    generator = Generator.objects.filter(imported_from=source.tracking_system, source_code=source_code).first()
    if generator is not None:
        return generator
    now = timezone.now()
    values = {"name": tidy(details.generator_name), "fuel_type": details.fuel, "technology": details.technology,
              "state": details.state, "capacity_mw": details.capacity_mw}
    generator = Generator.objects.create(
        organization=source.organization, code=generator_code_next(), status=Generator.Status.APPROVED,
        imported_from=source.tracking_system, source_code=source_code, created_by=user, created_at=now,
        reviewed_by=user, reviewed_at=now, **values)
    ledger_record(kind=LedgerEvent.Kind.GENERATOR_APPROVED, actor=user, organization=source.organization,
                  after={"generator": generator.pk, "code": generator.code, "source_code": source_code,
                         "tracking_system": source.tracking_system.code, "status": generator.status,
                         **generator_record(values)},
                  note=f"Import generator of {source.tracking_system.name}, approved with its first import")
    return generator


def _overlap_problem(details: ImportDetails) -> str | None:
    """The earlier import these serials overlap, in words (the constraint's friendly message); None if none."""
    base, start, end = details.original
    earlier = Import.objects.filter(tracking_system=details.tracking_system, original_serial_base=base,
                                    original_start__lte=end, original_end__gte=start).first()
    if earlier is None:
        return None
    return (f"Serials {details.original_serial.strip()} of {details.tracking_system.name} overlap import "
            f"{earlier.pk} ({earlier.original_serial}), recorded on {earlier.recorded_at:%Y-%m-%d}: the same "
            "certificates are never imported twice.")


def serial_base_for_import(*, tracking_system: TrackingSystem, generator: Generator, details: ImportDetails) -> str:
    """`MRETS-M805-MN-01-2020-4F2A9C`: the source's code, the generator's id there, its state, the period
    and a random suffix (certificates.services.serial_base_for, with the source's code first)."""
    return (f"{tracking_system.code}-{generator.source_code}-{generator.state}-{details.period.serial_text}-"
            f"{secrets.token_hex(3).upper()}")


def _import_write(*, user: User | None, details: ImportDetails, source_file: str = "",
                  message_id=None) -> Import:
    """One import inside the caller's transaction (import_record, imports_record_file)."""
    recipient_ok = details.recipient is not None and details.recipient.pk in organizations_able_to_receive(
        [details.recipient.pk])
    if problems := details.problems(recipient_can_receive=recipient_ok):
        raise ImportRefused(problems)
    source = _source_for(user=user, tracking_system=details.tracking_system)
    if problem := _overlap_problem(details):
        raise ImportRefused({"original_serial": problem})
    generator = _generator_for(user=user, source=source, details=details)
    base, start, end = details.original
    original_serial = details.original_serial.strip()
    line = ImportLine(generator=generator, period=details.period, quantity=details.quantity, account=source.account,
                      serial_base=serial_base_for_import(tracking_system=source.tracking_system, generator=generator,
                                                         details=details),
                      original_serial=original_serial,
                      eligibilities=list(dict.fromkeys(tidy(name) for name in details.eligibilities if tidy(name))))
    record = Import(tracking_system=source.tracking_system, original_serial_base=base, original_start=start,
                    original_end=end, generator=generator, recipient=details.recipient, recorded_by=user,
                    source_file=source_file, message_id=message_id, generator_as_known=generator_record({
                        "id": tidy(details.generator_id), "name": tidy(details.generator_name),
                        "fuel": details.fuel, "technology": details.technology, "state": details.state,
                        "capacity_mw": details.capacity_mw}))

    def rows(certificate, batch):
        transfer_rows = import_transfer_rows(stand_in=source.organization, recipient=details.recipient,
                                             tracking_system=source.tracking_system, user=user, batch=batch,
                                             notes=details.notes.strip())
        record.certificate, record.transfer = certificate, transfer_rows[0][0]
        return record.transfer, [*transfer_rows, [record]]

    try:
        with transaction.atomic():  # a concurrent import of the same serials: the exclusion constraint settles it
            certificate_import_write(user=user, line=line, with_rows=rows)
    except IntegrityError as error:
        problem = _overlap_problem(details) or "These serials were imported meanwhile; nothing was recorded."
        raise ImportRefused({"original_serial": problem}) from error
    return Import.objects.select_related("transfer", "certificate", "tracking_system", "recipient").get(
        certificate=record.certificate)


@transaction.atomic(durable=True)
def import_record(*, user: User, details: ImportDetails) -> Import:
    """Record one import by conversion (registry staff), all of it or nothing: the import generator matched
    or made, the certificate issued with the source's code in its serial base and the original serial kept,
    its batch pending in the source's stand-in account, the import transfer to the recipient, the import's
    ledger event and its import.recorded domain event. Refused (ImportRefused, by field) when a detail is
    wrong, the recipient cannot receive, or the serials overlap an earlier import of the same source."""
    staff_require(user=user)
    return _import_write(user=user, details=details)


@transaction.atomic(durable=True)
def imports_record_file(*, user: User, rows: list[tuple[int, ImportDetails]], filename: str) -> list[Import]:
    """Record every import of an import file (registry staff), all or nothing: the first refused row
    (ImportRefused, with its `row`) undoes them all."""
    staff_require(user=user)
    if not rows:
        raise ImportRefused({"upload": "The file has no imports."})
    recorded = []
    for row, details in rows:
        try:
            recorded.append(_import_write(user=user, details=details, source_file=f"{filename[:180]}, row {row}"))
        except ImportRefused as refusal:
            raise ImportRefused(refusal.problems, row=row) from refusal
    return recorded


@transaction.atomic(durable=True)
def import_from_message(*, message_id, details: ImportDetails) -> Import:
    """Record an export another registry running this project sent (imports.messages verified its
    signature, its sender and its id first): an import as staff record one, with no person behind it,
    once per message id (the database's unique message_id: a message received twice records once)."""
    if Import.objects.filter(message_id=message_id).exists():
        raise ImportRefused({"message": f"Message {message_id} was received already; nothing changed."})
    try:
        with transaction.atomic():
            return _import_write(user=None, details=details, message_id=message_id)
    except IntegrityError as error:  # the same message at the same instant
        raise ImportRefused({"message": f"Message {message_id} was received already; nothing changed."}) from error
