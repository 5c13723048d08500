"""Imports by conversion (issue #32, item 1): registry staff record certificates another tracking system
retired there for this registry; they are issued again here, pending for their recipient, who accepts
them into an active account or rejects them (then they are voided, and staff are emailed to return
them) through the transfer lifecycle, as a transfer from another organization is decided."""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import organizations_able_to_receive
from certificates.generator_services import generator_code_next, generator_record, tidy
from certificates.models import Generator
from certificates.services import ImportLine, certificates_import_write
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import Organization, TrackingSystem, User
from registry.services import ServiceError, staff_require
from transfers.models import Transfer
from transfers.services import NotPending, export_answered, import_transfer_rows

from .messages import fixed_message_id
from .models import Import, ImportSource, PeerRegistry, ReceivedMessage
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


def _overlap_within(rows: list[tuple[int, ImportDetails]], *, word: str) -> tuple[int, str] | None:
    """The first of `rows` (by serials) whose serials overlap an earlier one's of the same source, with why;
    None if none."""
    ranges = sorted(((details.tracking_system.pk, *details.original), row, details) for row, details in rows)
    reach = None  # (source, base, the furthest end so far, its row)
    for (system, base, start, end), row, details in ranges:
        if reach and reach[:2] == (system, base) and start <= reach[2]:
            return row, (f"Serials {details.original_serial.strip()} of {details.tracking_system.name} overlap the "
                         f"import of {word} {reach[3]} here: the same certificates are never imported twice.")
        if not reach or reach[:2] != (system, base) or end > reach[2]:
            reach = (system, base, end, row)
    return None


def serial_base_for_import(*, tracking_system: TrackingSystem, generator: Generator, details: ImportDetails) -> str:
    """`MRETS-M805-MN-01-2020-4F2A9C`: the source's code, the generator's id there, its state, the period
    and a random suffix (certificates.services.serial_base_for, with the source's code first)."""
    return (f"{tracking_system.code}-{generator.source_code}-{generator.state}-{details.period.serial_text}-"
            f"{secrets.token_hex(3).upper()}")


def _imports_write(*, user: User | None, rows: list[tuple[int, ImportDetails]], word: str = "row",
                   source_file: str = "", message_id=None, one_transfer: bool = False) -> list[Import]:
    """Imports inside the caller's transaction, all or nothing (import_record, imports_record_file,
    import_from_message), each `rows` entry (its row or batch number, its details) a certificate: each with
    its own transfer for the recipient to decide, or, `one_transfer`, all in one (an export another registry
    sent). The first refused (ImportRefused, with its `row`) refuses them all. Its certificates are written
    together (certificates_import_write: a few statements however many; bench/imports_peer.py)."""
    recipients = {details.recipient.pk for _, details in rows if details.recipient is not None}
    able = set(organizations_able_to_receive(list(recipients))) if recipients else set()
    for row, details in rows:
        if problems := details.problems(recipient_can_receive=details.recipient is not None
                                        and details.recipient.pk in able):
            raise ImportRefused(problems, row=row)
    if overlap := _overlap_within(rows, word=word):
        raise ImportRefused({"original_serial": overlap[1]}, row=overlap[0])
    sources: dict[int, ImportSource] = {}
    generators: dict[tuple[int, str], Generator] = {}
    lines, records, transfers = [], [], []
    for row, details in rows:
        system = details.tracking_system
        if system.pk not in sources:
            sources[system.pk] = _source_for(user=user, tracking_system=system)
        source = sources[system.pk]
        if (system.pk, tidy(details.generator_id)) not in generators:
            generators[system.pk, tidy(details.generator_id)] = _generator_for(user=user, source=source,
                                                                               details=details)
        generator = generators[system.pk, tidy(details.generator_id)]
        base, start, end = details.original
        lines.append(ImportLine(
            generator=generator, period=details.period, quantity=details.quantity, account=source.account,
            serial_base=serial_base_for_import(tracking_system=system, generator=generator, details=details),
            original_serial=details.original_serial.strip(),
            eligibilities=list(dict.fromkeys(tidy(name) for name in details.eligibilities if tidy(name)))))
        records.append(Import(
            tracking_system=system, original_serial_base=base, original_start=start, original_end=end,
            generator=generator, recipient=details.recipient, recorded_by=user, message_id=message_id,
            source_file=source_file and f"{source_file[:180]}, row {row}", generator_as_known=generator_record({
                "id": tidy(details.generator_id), "name": tidy(details.generator_name), "fuel": details.fuel,
                "technology": details.technology, "state": details.state, "capacity_mw": details.capacity_mw})))
    pending = iter(zip(rows, records, strict=True))

    def with_rows(certificate, batch):
        (_, details), record = next(pending)
        source = sources[details.tracking_system.pk]
        transfer_rows = import_transfer_rows(
            stand_in=source.organization, recipient=details.recipient, tracking_system=details.tracking_system,
            user=user, batch=batch, notes=details.notes.strip(), transfer=transfers[0] if one_transfer and transfers
            else None)
        if len(transfer_rows) > 1:  # a transfer of its own
            transfers.append(transfer_rows[0][0])
        record.certificate, record.transfer = certificate, transfers[-1]
        return record.transfer, [*transfer_rows, [record]]

    try:
        with transaction.atomic():  # a concurrent import of the same serials: the exclusion constraint settles it
            certificates = certificates_import_write(user=user, lines=lines, with_rows=with_rows)
    except IntegrityError as error:
        for row, details in rows:
            if problem := _overlap_problem(details):
                raise ImportRefused({"original_serial": problem}, row=row) from error
        raise ImportRefused({"original_serial": "These serials were imported meanwhile; nothing was recorded."}
                            ) from error
    recorded = {record.certificate_id: record for record in Import.objects.select_related(
        "transfer", "certificate", "tracking_system", "recipient").filter(certificate__in=certificates)}
    return [recorded[certificate.pk] for certificate in certificates]


@transaction.atomic(durable=True)
def import_record(*, user: User, details: ImportDetails) -> Import:
    """Record one import by conversion (registry staff), all of it or nothing: the import generator matched
    or made, the certificate issued with the source's code in its serial base and the original serial kept,
    its batch pending in the source's stand-in account, the import transfer to the recipient, the import's
    ledger event and its import.recorded domain event. Refused (ImportRefused, by field) when a detail is
    wrong, the recipient cannot receive, or the serials overlap an earlier import of the same source."""
    staff_require(user=user)
    try:
        return _imports_write(user=user, rows=[(1, details)])[0]
    except ImportRefused as refusal:
        raise ImportRefused(refusal.problems) from refusal


@transaction.atomic(durable=True)
def imports_record_file(*, user: User, rows: list[tuple[int, ImportDetails]], filename: str) -> list[Import]:
    """Record every import of an import file (registry staff), all or nothing: the first refused row
    (ImportRefused, with its `row`) undoes them all."""
    staff_require(user=user)
    if not rows:
        raise ImportRefused({"upload": "The file has no imports."})
    return _imports_write(user=user, rows=rows, source_file=filename)


def _received(peer: PeerRegistry, *, message_id, type: str, reference: int) -> bool:  # noqa: A002
    """Whether this message, or another of its type about the same export, was acted on already."""
    return ReceivedMessage.objects.filter(Q(message_id=message_id) | Q(
        tracking_system=peer.tracking_system, type=type, export_reference=reference)).exists()


def _received_already(message_id) -> ImportRefused:
    return ImportRefused({"message": f"Message {message_id} was received already; nothing changed."})


@transaction.atomic(durable=True)
def import_from_message(*, peer: PeerRegistry, message_id, reference: int, details: list[ImportDetails]
                        ) -> list[Import]:
    """Record an export another registry running this project sent (imports.messages verified its
    signature, its sender and its id first): every batch an import as staff record one, with no person
    behind it, all in one transfer for the recipient to accept or reject at once; all or nothing, once per
    message and per export (ReceivedMessage's unique keys; the original serials' exclusion constraint
    settles two deliveries at the same instant)."""
    if _received(peer, message_id=message_id, type=ReceivedMessage.Type.EXPORT, reference=reference):
        raise _received_already(message_id)
    try:
        records = _imports_write(user=None, rows=list(enumerate(details, 1)), word="batch", message_id=message_id,
                                 one_transfer=True)
    except ImportRefused as refusal:
        raise ImportRefused({field: f"Batch {refusal.row}: {problem}" for field, problem in refusal.problems.items()},
                            row=refusal.row) from refusal
    try:
        with transaction.atomic():
            ReceivedMessage.objects.create(message_id=message_id, tracking_system=peer.tracking_system,
                                           type=ReceivedMessage.Type.EXPORT, export_reference=reference,
                                           transfer=records[0].transfer)
    except IntegrityError as error:  # the same export at the same instant
        raise _received_already(message_id) from error
    return records


@transaction.atomic(durable=True)
def export_answer_receive(*, peer: PeerRegistry, message_id, reference: int, in_reply_to, accepted: bool,
                          quantity: int) -> Transfer:
    """The registry an export went to answered it (imports.messages verified the answer first): the export
    confirmed (its batches exported) or returned to its sender, by transfers.services.export_answered, with
    the answer recorded in the same transaction. Once per answer and per export: a repeat, a second answer
    or an export decided here meanwhile (by staff) changes nothing and is refused as a conflict."""
    decision = "accepted" if accepted else "rejected"
    if _received(peer, message_id=message_id, type=ReceivedMessage.Type.ANSWER, reference=reference):
        raise _received_already(message_id)
    transfer = Transfer.objects.filter(pk=reference, kind=Transfer.Kind.EXPORT,
                                       tracking_system=peer.tracking_system).first()
    if transfer is None or in_reply_to != fixed_message_id("export", transfer.pk):
        raise ImportRefused({"export_reference": f"There is no export {reference} from here to "
                                                 f"{peer.tracking_system.name} sent as message {in_reply_to}."})
    exported = transfer.items.aggregate(total=Sum("batch__quantity"))["total"] or 0
    if quantity != exported:
        raise ImportRefused({"quantity": f"Export {reference} holds {exported:,} certificates, not {quantity:,}."})
    try:
        with transaction.atomic():
            export_answered(transfer=transfer, tracking_system=peer.tracking_system, accepted=accepted,
                            note=f"{peer.tracking_system.name} {decision} it (its message {message_id}).")
            ReceivedMessage.objects.create(message_id=message_id, tracking_system=peer.tracking_system,
                                           type=ReceivedMessage.Type.ANSWER, export_reference=reference,
                                           transfer=transfer, decision=decision)
    except NotPending as error:
        transfer.refresh_from_db(fields=["status"])
        raise ImportRefused({"message": f"Export {reference} was decided here already ({transfer.status}); "
                                        "nothing changed."}) from error
    except IntegrityError as error:  # the same answer at the same instant
        raise _received_already(message_id) from error
    return transfer
