"""Prior period adjustments (#30): a corrected total for an issued month is a correction request,
made by a corrected upload (issuance.services) or by the owner's managers on the month's page with
their evidence; registry staff approve or refuse it in the admin.

Approved, the difference goes through the carry rule from where the generator stands
(issuance.selectors.generator_balances): more generation first pays what the generator owes, and the
rest is issued as a new certificate of the month with its own serial range; less generation is a
shortfall, owed from the generator's next issuances (its debit, paid before anything is issued) or,
if staff choose, voided from certificates of the month its owner still holds. Each step is a ledger
event and a domain event in the same transaction; the owner's managers are told by email and webhook
by the consumers of those events.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import accounts_lock_for_share
from certificates.models import CertificateBatch, Generator
from certificates.services import IssueLine, batches_void, certificates_write
from events.models import Event
from events.services import event_new, events_record
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from registry.models import Membership, Organization, User
from registry.services import ServiceError, staff_require
from utilities.display import count_text

from .arithmetic import adjusted_quantity
from .models import EVIDENCE_MAX_BYTES, MWH_DECIMALS, Correction, GenerationUpload, Issuance
from .selectors import Balance, generator_balances, issuances_corrected_mwh

# Generators whose corrections one transaction applies (their rows locked while it writes), an
# organization's together as issuance_run keeps them: bench/corrections.py applies 1,000 in one.
GENERATORS_PER_TRANSACTION = 1000
# What an approval writes on a correction.
OUTCOME = ["status", "decided_by", "decided_at", "decision_note", "shortfall_by", "follows", "sequence", "carry_in",
           "carry_out", "quantity", "certificate", "debit_in", "debit_paid", "shortfall", "voided", "debit_out"]


def by_generator(rows: Iterable[tuple[int, int, int]]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Rows of (id, generator id, organization id), in generator order, grouped: the ids of each
    generator's rows, and each organization's generators (for chunks_by_organization)."""
    ids: dict[int, list[int]] = defaultdict(list)
    generators: dict[int, list[int]] = defaultdict(list)
    for row_id, generator_id, organization_id in rows:
        if generator_id not in ids:
            generators[organization_id].append(generator_id)
        ids[generator_id].append(row_id)
    return ids, generators


def chunks_by_organization(by_organization: dict[int, list[int]], size: int) -> list[list[int]]:
    """The generators in transactions of at most `size`, an organization's together (as long as it
    has no more than `size`), so that each organization's issuances of a run commit at once and it
    gets one email for them (issuance.services._issued_record), and so of its corrections."""
    chunks: list[list[int]] = [[]]
    for organization_id in sorted(by_organization):
        generator_ids = sorted(by_organization[organization_id])
        if chunks[-1] and len(chunks[-1]) + len(generator_ids) > size:
            chunks.append([])
        for generator_id in generator_ids:
            if len(chunks[-1]) == size:
                chunks.append([])
            chunks[-1].append(generator_id)
    return [chunk for chunk in chunks if chunk]


MWH_STEP = Decimal(1).scaleb(-MWH_DECIMALS)  # 0.001


@dataclass(frozen=True)
class CorrectionWanted:
    """A corrected total for an issued month: its issuance and the corrected MWh."""

    issuance_id: int
    mwh: Decimal


def correction_request(*, organization: Organization, user: User, issuance: Issuance, mwh: Decimal, note: str,
                       evidence=None) -> Correction:
    """A manager of the generator's owner asks registry staff to correct an issued month to `mwh`
    (the corrected total), with a note and optionally a file as evidence (stored as uploads are)."""
    if not Membership.objects.filter(user=user, organization=organization, role=Membership.Role.MANAGER).exists():
        raise ServiceError(Membership.manager_only_note(organization))
    if issuance.generator.organization_id != organization.pk:
        raise ServiceError(f"{issuance.generator.code} is not a generator of {organization.name}.")
    if not note.strip():
        raise ServiceError("Say what was wrong and how the corrected total was found (the evidence note).")
    if evidence is not None and evidence.size > EVIDENCE_MAX_BYTES:
        raise ServiceError(f"The evidence file is larger than {EVIDENCE_MAX_BYTES // (1024 * 1024)} MB.")
    with transaction.atomic(durable=True):
        correction, = corrections_request_write(organization=organization, user=user, note=note.strip(),
                                                wanted=[CorrectionWanted(issuance.pk, mwh)])
        if evidence is not None:
            correction.evidence_name = evidence.name[:255]
            correction.evidence.save(evidence.name, evidence, save=False)
            correction.save(update_fields=["evidence", "evidence_name"])
    return correction


def corrections_request_write(*, organization: Organization, user: User, wanted: list[CorrectionWanted],
                              upload: GenerationUpload | None = None, note: str = "") -> list[Correction]:
    """Record the corrections wanted as requests, inside the caller's transaction: each month issued
    and in force, its corrected total different from its total now, and no other request of it open.
    The issuances are locked in primary-key order (a rollback and an approval wait for this)."""
    issuances = {issuance.pk: issuance for issuance in (
        Issuance.objects.select_for_update(of=("self",)).filter(pk__in=[w.issuance_id for w in wanted])
        .select_related("generator", "certificate").order_by("pk"))}
    current = issuances_corrected_mwh(issuances)
    open_ = set(Correction.objects.filter(issuance__in=list(issuances), status=Correction.Status.REQUESTED)
                .values_list("issuance_id", flat=True))
    corrections, events = [], []
    for want in wanted:
        issuance = issuances.get(want.issuance_id)
        if issuance is None or issuance.is_rolled_back:
            raise ServiceError("This month's issuance was rolled back meanwhile; report the month again instead.")
        month = f"{issuance.generator.code} {issuance.period}"
        mwh = want.mwh.quantize(MWH_STEP)  # as the column holds it, and the ledger event writes it
        if mwh == current[issuance.pk]:
            raise ServiceError(f"{month} was issued for {current[issuance.pk]} MWh already; nothing to correct.")
        if issuance.pk in open_:
            raise ServiceError(f"A correction of {month} is awaiting the registry's decision already.")
        corrections.append(Correction(
            generator=issuance.generator, month=issuance.month, issuance=issuance, mwh_before=current[issuance.pk],
            mwh_after=mwh, difference=mwh - current[issuance.pk], organization=organization,
            requested_by=user, upload=upload, note=note))
    try:
        with transaction.atomic():
            Correction.objects.bulk_create(corrections)
    except IntegrityError as error:  # another request of the same month committed first
        raise ServiceError("Another correction of one of these months was requested at the same time.") from error
    for correction in corrections:
        events.append(ledger_event(
            kind=LedgerEvent.Kind.CORRECTION_REQUESTED, actor=user, organization=organization,
            certificate=correction.issuance.certificate, note=correction.note,
            before={"correction": correction.pk, "mwh": str(correction.mwh_before)},
            after={"correction": correction.pk, "generator": correction.generator.code,
                   "month": str(correction.period), "mwh": str(correction.mwh_after),
                   "difference": str(correction.difference), "upload": upload.pk if upload else None}))
    ledger_write(events)
    return corrections


@dataclass
class CorrectionsDecided:
    """What corrections_approve did: the corrections approved, and those it left with the reason."""

    approved: list[Correction] = field(default_factory=list)
    skipped: list[tuple[Correction, str]] = field(default_factory=list)

    @property
    def issued(self) -> int:
        return sum(correction.quantity for correction in self.approved)

    @property
    def shortfall(self) -> int:
        return sum(correction.shortfall for correction in self.approved)


def corrections_approve(*, user: User, corrections: Iterable[Correction], note: str = "",
                        shortfall_by: str = Correction.Shortfall.DEBIT) -> CorrectionsDecided:
    """Apply the requested corrections (registry staff), each generator's in the order requested.

    Per transaction of up to GENERATORS_PER_TRANSACTION generators: their rows locked as issuance_run
    locks them (so an issuance and a correction of the same generator follow each other and each reads
    the carry and debit the other left), then the corrections FOR UPDATE in primary-key order. A
    correction is applied only if still requested, its month's issuance in force and its total before
    still the month's total; a credit needs the generator approved with an open active issuance
    account of its owner, a shortfall voided needs that many certificates of the month still held by
    its owner. A correction that cannot be applied is left requested and given back with the reason.
    """
    staff_require(user=user)
    if shortfall_by not in Correction.Shortfall.values:
        raise ServiceError("Choose how a shortfall is taken back: owed from the next issuances, or voided.")
    ids, by_organization = by_generator(Correction.objects.filter(
        pk__in=[correction.pk for correction in corrections]).values_list(
        "pk", "generator_id", "generator__organization_id").order_by("generator_id", "pk"))
    result = CorrectionsDecided()
    for chunk in chunks_by_organization(by_organization, GENERATORS_PER_TRANSACTION):
        _approve_generators(user=user, generator_ids=chunk, note=note.strip(), shortfall_by=shortfall_by,
                            correction_ids=[pk for generator_id in chunk for pk in ids[generator_id]],
                            result=result)
    return result


@transaction.atomic(durable=True)
def _approve_generators(*, user: User, generator_ids: list[int], correction_ids: list[int], note: str,
                        shortfall_by: str, result: CorrectionsDecided) -> None:
    generators = {generator.pk: generator for generator in (
        Generator.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=generator_ids)
        .select_related("organization", "account").order_by("pk"))}
    corrections = list(Correction.objects.select_for_update(of=("self",)).filter(pk__in=correction_ids)
                       .select_related("issuance__certificate").order_by("pk"))
    balances = generator_balances(generator_ids)
    current = issuances_corrected_mwh({correction.issuance_id for correction in corrections})
    accounts = accounts_lock_for_share(generator.account_id for generator in generators.values()
                                       if generator.account_id)
    held = _held_batches(corrections, generators) if shortfall_by == Correction.Shortfall.VOID else {}
    decided_at = timezone.now()

    applied: list[Correction] = []
    lines: list[IssueLine] = []
    voids: list[tuple[Correction, list[CertificateBatch]]] = []
    for correction in sorted(corrections, key=lambda correction: (correction.generator_id, correction.pk)):
        generator = correction.generator = generators[correction.generator_id]
        balance = balances[generator.pk]
        adjusted = adjusted_quantity(correction.difference, balance.carry)
        paid = min(adjusted.quantity, balance.debit)
        quantity, voided = adjusted.quantity - paid, (adjusted.shortfall if shortfall_by == "void" else 0)
        taken = _batches_taken(held.get((generator.pk, correction.month), []), voided)
        reason = _cannot_approve(correction, generator, balance, current, accounts.get(generator.account_id),
                                 quantity, voided, taken)
        if reason:
            result.skipped.append((correction, reason))
            continue
        correction.status, correction.decided_by, correction.decided_at = Correction.Status.APPROVED, user, decided_at
        correction.decision_note = note
        correction.shortfall_by = shortfall_by if adjusted.shortfall else ""
        correction.follows_id, correction.sequence = balance.follows, balance.sequence + 1
        correction.carry_in, correction.carry_out = balance.carry, adjusted.carry_out
        correction.quantity, correction.debit_in, correction.debit_paid = quantity, balance.debit, paid
        correction.shortfall, correction.voided = adjusted.shortfall, voided
        correction.debit_out = balance.debit - paid + adjusted.shortfall - voided
        balances[generator.pk] = Balance(balance.follows, correction.sequence, correction.carry_out,
                                         correction.debit_out)
        current[correction.issuance_id] = correction.mwh_after
        applied.append(correction)
        if quantity:
            lines.append(IssueLine(generator, correction.period, quantity, generator.account, adjustment=True))
        if voided:
            voids.append((correction, taken))
    if not applied:
        return
    issued = iter(certificates_write(user=user, lines=lines) if lines else ())
    for correction in applied:
        correction.certificate = next(issued) if correction.quantity else None
    for correction, taken in voids:
        _shortfall_void(user=user, correction=correction, takes=taken)
    for correction in applied:  # one UPDATE each (bulk_update's CASEs: 22 s for 1,000, bench/corrections.py)
        Correction.objects.filter(pk=correction.pk).update(**{name: getattr(correction, name) for name in OUTCOME})
    ledger_write([_adjusted_event(correction, user) for correction in applied])
    _adjusted_record(applied)
    result.approved.extend(applied)


def _cannot_approve(correction: Correction, generator: Generator, balance: Balance, current: dict, account: dict | None,
                    quantity: int, voided: int, taken: list | None) -> str | None:
    """Why this correction cannot be applied now; None if it can."""
    month = f"{generator.code} {correction.period}"
    if correction.status != Correction.Status.REQUESTED:
        return f"The correction of {month} was {correction.get_status_display().lower()} already."
    if correction.issuance.is_rolled_back:
        return f"{month}'s issuance was rolled back; the month is reported and issued again instead."
    if current[correction.issuance_id] != correction.mwh_before:
        return f"{month} is {current[correction.issuance_id]} MWh now, not the {correction.mwh_before} MWh this " \
               "correction was requested from; refuse it and ask for a new one."
    if quantity and generator.status != Generator.Status.APPROVED:
        return f"{month}: {generator.code} is not approved ({generator.get_status_display().lower()})."
    if quantity and (account is None or account["organization_id"] != generator.organization_id
                     or not Account.is_open_active_state(type=account["type"], status=account["status"])):
        return f"{month}: {generator.code} has no open active issuance account of {generator.organization.name} " \
               "for the new certificates."
    if voided and taken is None:
        return f"{month}: its owner no longer holds {voided} active certificates of the month to void; approve it " \
               "with the shortfall owed from the next issuances instead."
    return None


def _held_batches(corrections: list[Correction], generators: dict[int, Generator]
                  ) -> dict[tuple[int, object], list[CertificateBatch]]:
    """The active batches each corrected month's owner still holds of that month's certificates (the
    original and the corrections'), newest serials first: those a shortfall voids."""
    months = {(correction.generator_id, correction.month) for correction in corrections}
    held: dict[tuple[int, object], list[CertificateBatch]] = defaultdict(list)
    batches = list(CertificateBatch.objects.select_for_update(of=("self",)).filter(
        certificate__generator__in=[generator_id for generator_id, _ in months], status=CertificateBatch.Status.ACTIVE,
        certificate__voided_at__isnull=True).select_related("certificate", "account").order_by("pk"))
    for batch in sorted(batches, key=lambda batch: (batch.certificate.issued_at, batch.serial_end), reverse=True):
        generator = generators[batch.certificate.generator_id]
        month = batch.certificate.period.first_day
        if (generator.pk, month) in months and batch.account.organization_id == generator.organization_id:
            held[(generator.pk, month)].append(batch)
    return held


def _batches_taken(batches: list[CertificateBatch], quantity: int) -> list[tuple[CertificateBatch, int]] | None:
    """`quantity` certificates from `batches`, in their order, as (batch, quantity) takes; None if
    they hold fewer. The batches given are taken from the list, so that a second correction of the
    same month takes others."""
    if not quantity:
        return []
    takes, left = [], quantity
    while left and batches:
        batch = batches.pop(0)
        take = min(left, batch.quantity)
        takes.append((batch, take))
        left -= take
    return None if left else takes


def _shortfall_void(*, user: User, correction: Correction, takes: list[tuple[CertificateBatch, int]]) -> None:
    """Void a correction's shortfall from the batches taken (its owner's, of the month; a part of a batch
    its lowest serials), with batches_void's ledger events and certificates.voided event."""
    batches_void(user=user, organization=Organization(pk=correction.generator.organization_id),
                 lines=[(batch.pk, quantity) for batch, quantity in takes],
                 reason=f"Correction of {correction.generator.code} {correction.period}: {correction.difference} MWh, "
                        f"a shortfall of {count_text(correction.shortfall, 'certificate')}")


def _adjusted_event(correction: Correction, user: User) -> LedgerEvent:
    """The correction's ledger event: who and when (the event's own), the evidence and the decision,
    and the month's and the generator's numbers before and after."""
    return ledger_event(
        kind=LedgerEvent.Kind.ISSUANCE_ADJUSTED, actor=user,
        organization=Organization(pk=correction.generator.organization_id),
        certificate=correction.certificate or correction.issuance.certificate,
        note=f"Evidence: {correction.note or 'a corrected upload'}. "
             f"Decision: {correction.decision_note or 'approved'}.",
        before={"correction": correction.pk, "mwh": str(correction.mwh_before), "carry": str(correction.carry_in),
                "debit": correction.debit_in},
        after={"correction": correction.pk, "generator": correction.generator.code, "month": str(correction.period),
               "mwh": str(correction.mwh_after), "carry": str(correction.carry_out),
               "debit": correction.debit_out, "issued": correction.quantity, "debit_paid": correction.debit_paid,
               "shortfall": correction.shortfall, "voided": correction.voided,
               "certificate": correction.certificate_id})


def _adjusted_record(corrections: list[Correction]) -> None:
    """One issuance.adjusted event per organization (its managers emailed, its webhooks told), and a
    certificates.issued event of the new certificates (counted by the public statistics)."""
    by_organization: dict[int, list[Correction]] = defaultdict(list)
    for correction in corrections:
        by_organization[correction.generator.organization_id].append(correction)
    events = []
    for organization_id, made in by_organization.items():
        events.append(event_new(kind=Event.Kind.ISSUANCE_ADJUSTED, organization_id=organization_id,
                                data={"correction_ids": [correction.pk for correction in made]}))
        if certificate_ids := [correction.certificate_id for correction in made if correction.certificate_id]:
            events.append(event_new(kind=Event.Kind.CERTIFICATES_ISSUED, organization_id=organization_id,
                                    data={"certificate_ids": certificate_ids}))
    events_record(events)


@transaction.atomic(durable=True)
def correction_refuse(*, user: User, correction: Correction, note: str) -> Correction:
    """Refuse a requested correction (registry staff), saying why: the month stays as it is."""
    staff_require(user=user)
    if not note.strip():
        raise ServiceError("Say why the correction is refused: the requester reads it.")
    correction = (Correction.objects.select_for_update(of=("self",)).select_related("generator", "issuance")
                  .get(pk=correction.pk))
    if correction.status != Correction.Status.REQUESTED:
        raise ServiceError(f"This correction was {correction.get_status_display().lower()} already.")
    correction.status, correction.decided_by, correction.decided_at = Correction.Status.REFUSED, user, timezone.now()
    correction.decision_note = note.strip()
    correction.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    ledger_write([ledger_event(
        kind=LedgerEvent.Kind.CORRECTION_REFUSED, actor=user,
        organization=Organization(pk=correction.generator.organization_id),
        certificate=correction.issuance.certificate, note=correction.decision_note,
        before={"correction": correction.pk, "mwh": str(correction.mwh_before)},
        after={"correction": correction.pk, "generator": correction.generator.code, "month": str(correction.period),
               "mwh": str(correction.mwh_before), "refused": str(correction.mwh_after)})])
    events_record([event_new(kind=Event.Kind.CORRECTION_REFUSED, organization_id=correction.generator.organization_id,
                             subject_id=correction.pk, data={"correction_ids": [correction.pk]})])
    return correction

