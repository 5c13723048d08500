"""Every write of standing instructions: set one, end one, lift the irrevocable flag (registry
staff), and run them on a new issuance (instructions_run, which the issuance service calls in its
own transaction). The moves themselves are made by the transfer services, never here."""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.models import Account
from certificates.models import Certificate, CertificateBatch, FuelType, Generator
from certificates.periods import ProductionPeriod
from certificates.reviews import organization_refusals, review_today
from events.models import Event
from events.services import event_new, events_record
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import Organization, User
from registry.services import ServiceError, role_require, staff_require
from retirements.services import RetirementDetails, retirement_write
from transfers.models import NOTES_MAX_LENGTH
from transfers.services import Destination, TransferLine, transfer_write
from utilities.display import number_text

from .models import HUNDRED, InstructionDestination, InstructionRun, StandingInstruction
from .selectors import instructions_for

Kind = InstructionDestination.Kind
MAX_DESTINATIONS = 3


class InstructionRefused(ServiceError):
    pass


@dataclass(frozen=True)
class DestinationChoice:
    """One destination of a new instruction, in priority order: `account` for one of the
    organization's own active accounts or (with `retirement`) its retirement account; `recipient`
    for another organization. A retirement without a compliance period takes each vintage's year."""

    kind: str
    account: Account | None = None
    recipient: Organization | None = None
    retirement: RetirementDetails | None = None

    def transfer_destination(self) -> Destination:
        """Where the instruction's transfers will go, as the transfer services take it: its rules
        (Destination.problems) are the instruction's."""
        if self.kind == Kind.ORGANIZATION:
            return Destination.to_organization(self.recipient)
        if self.kind == Kind.RETIREMENT:
            return Destination.retirement(self.account)
        return Destination.internal(self.account)


@transaction.atomic(durable=True)
def instruction_create(*, organization: Organization, user: User, generator: Generator | None = None,
                       fuel_type: str = "", from_vintage: ProductionPeriod,
                       until_vintage: ProductionPeriod | None = None,
                       percentage: Decimal | None = None, maximum: int | None = None, irrevocable: bool = False,
                       destinations: list[DestinationChoice]) -> StandingInstruction:
    """Set a standing instruction for each new issuance of one of the organization's generators, or
    of every generator of one fuel it owns, from a vintage month (until another, if given): the
    months of the periods given (ProductionPeriod), stored as their first days.

    It moves a percentage of each issuance (more than 0, at most 100, up to two decimals; rounded
    down to whole certificates) or up to a maximum quantity, to the first of one to three
    destinations, in priority order, that can receive. The percentages of the organization's active
    instructions that can take from one generator's issuance of one vintage may not exceed 100% in
    total. A manager or trader sets it; it cannot be changed afterwards (end it and set another).
    """
    role_require(user=user, organization=organization)
    from_vintage, until_vintage = _vintages(from_vintage, until_vintage)
    generator, fuel_type = _source(organization, generator, fuel_type)
    percentage, maximum = _share(percentage, maximum)
    checked = [_destination(organization, generator, choice, priority, from_vintage)
               for priority, choice in enumerate(destinations, start=1)]
    if not checked:
        raise InstructionRefused("Give at least one destination.")
    if len(checked) > MAX_DESTINATIONS:
        raise InstructionRefused(f"Give at most {MAX_DESTINATIONS} destinations.")
    # One change of the organization's instructions at a time, so two new ones cannot each pass the
    # 100% check on their own (as invitation_create does).
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if percentage is not None:
        _percentages_check(organization=organization, generator=generator, fuel_type=fuel_type,
                           from_vintage=from_vintage, until_vintage=until_vintage, percentage=percentage)
    instruction = StandingInstruction.objects.create(
        organization=organization, created_by=user, generator=generator, fuel_type=fuel_type,
        from_vintage=from_vintage, until_vintage=until_vintage, percentage=percentage, maximum=maximum,
        irrevocable=irrevocable,
    )
    for destination in checked:
        destination.instruction = instruction
    InstructionDestination.objects.bulk_create(checked)
    instruction._prefetched_objects_cache = {"destinations": checked}
    ledger_record(kind=LedgerEvent.Kind.INSTRUCTION_CREATED, actor=user, organization=organization,
                  after=instruction.snapshot())
    return instruction


def _vintages(from_vintage, until_vintage) -> tuple[datetime.date, datetime.date | None]:
    """The months of the periods given, as their first days (the instruction's columns)."""
    if not isinstance(from_vintage, ProductionPeriod):
        raise InstructionRefused("Give the first vintage month it applies to.")
    first = ProductionPeriod.month_of(from_vintage.start)
    last = ProductionPeriod.month_of(until_vintage.start) if until_vintage else None
    if last and last < first:
        raise InstructionRefused(f"The last vintage month ({last}) is before the first ({first}).")
    return first.first_day, last.first_day if last else None


def _source(organization, generator, fuel_type) -> tuple[Generator | None, str]:
    if (generator is None) == (not fuel_type):
        raise InstructionRefused("Choose either one of your generators or a fuel type, not both.")
    if generator is not None:
        if generator.organization_id != organization.pk:
            raise InstructionRefused(f"Generator {generator.code} is not one of {organization.name}'s generators.")
        return generator, ""
    if fuel_type not in FuelType.values:
        raise InstructionRefused(f"“{fuel_type}” is not a fuel type; choose one of the list.")
    return None, fuel_type


def _share(percentage, maximum) -> tuple[Decimal | None, int | None]:
    if (percentage is None) == (maximum is None):
        raise InstructionRefused("Give either a percentage of each issuance or a maximum quantity, not both.")
    if maximum is not None:
        if isinstance(maximum, bool) or not isinstance(maximum, int) or maximum < 1:
            raise InstructionRefused("The maximum quantity must be a whole number of at least 1.")
        return None, maximum
    try:
        percentage = Decimal(percentage)
        hundredths = percentage * 100
    except (InvalidOperation, TypeError, ValueError):
        raise InstructionRefused(f"“{percentage}” is not a percentage.") from None
    if not percentage.is_finite() or not 0 < percentage <= HUNDRED or hundredths != hundredths.to_integral_value():
        raise InstructionRefused("The percentage must be more than 0 and at most 100, with at most two decimals.")
    return percentage.quantize(Decimal("0.01")), None


def _destination(organization, generator, choice: DestinationChoice, priority: int,
                 from_vintage: datetime.date) -> InstructionDestination:
    """The destination as it will be stored, or why not (named by its priority)."""
    def refused(reason: str) -> InstructionRefused:
        return InstructionRefused(f"Destination {priority}: {reason}")

    if choice.kind not in Kind.values:
        raise refused("Choose where the certificates go.")
    if problems := choice.transfer_destination().problems(organization):  # where a transfer may go
        raise refused(next(iter(problems.values())))
    if choice.kind == Kind.OWN_ACCOUNT:
        account = choice.account
        if generator is not None and generator.account_id == account.pk:
            raise refused(f"{generator.code}'s certificates are issued into account {account.public_id} already; "
                          "choose another account.")
        return InstructionDestination(priority=priority, kind=choice.kind, account=account)
    if choice.kind == Kind.ORGANIZATION:
        return InstructionDestination(priority=priority, kind=choice.kind, recipient=choice.recipient)
    if choice.kind == Kind.RETIREMENT:
        account, details = choice.account, choice.retirement or RetirementDetails(option=None)
        # The retirement's own rules (RetirementDetails.problems); a blank compliance period is each
        # vintage's year, so it is checked here with the first one's.
        as_run = RetirementDetails(option=details.option, beneficiary=details.beneficiary,
                                   compliance_period=details.compliance_period or from_vintage.year)
        if problems := as_run.problems():
            raise refused(next(iter(problems.values())))
        return InstructionDestination(priority=priority, kind=choice.kind, account=account,
                                      retirement_option=details.option, compliance_period=details.compliance_period,
                                      beneficiary=details.beneficiary.strip())


def _percentages_check(*, organization, generator, fuel_type, from_vintage, until_vintage, percentage) -> None:
    """Refuse a percentage that would take the instructions able to take from one generator's
    issuance of one vintage above 100% in total. Those are the generator's own instructions and its
    fuel's, whose vintages overlap; the largest total is at the first vintage of one of them."""
    fuel = generator.fuel_type if generator else fuel_type
    others = [other for other in StandingInstruction.objects.filter(
        organization=organization, status=StandingInstruction.Status.ACTIVE, percentage__isnull=False,
        fuel_type=fuel,
    ).union(StandingInstruction.objects.filter(
        organization=organization, status=StandingInstruction.Status.ACTIVE, percentage__isnull=False,
        generator__fuel_type=fuel, **({"generator": generator} if generator else {}),
    )) if (until_vintage is None or other.from_vintage <= until_vintage)
        and (other.until_vintage is None or from_vintage <= other.until_vintage)]
    by_generator: dict[int | None, list[StandingInstruction]] = {None: []}
    for other in others:
        if other.generator_id:
            by_generator.setdefault(other.generator_id, [])
    for other in others:  # a fuel's instruction takes from each of its generators
        for generator_id, group in by_generator.items():
            if other.generator_id in (None, generator_id):
                group.append(other)
    vintages = {from_vintage} | {other.from_vintage for other in others if other.from_vintage > from_vintage}
    for group in by_generator.values():
        for vintage in sorted(ProductionPeriod.month_of(vintage) for vintage in vintages):
            taken = sum((other.percentage for other in group if other.covers(vintage)), Decimal(0))
            if taken + percentage > HUNDRED:
                names = ", ".join(f"{other.pk} ({other.share_label} of {other.source_label})"
                                  for other in group if other.covers(vintage))
                raise InstructionRefused(
                    f"Your active instructions {names} already take {taken.normalize():f}% of the same issuances "
                    f"(vintage {vintage}); with {percentage.normalize():f}% more they would take "
                    f"{(taken + percentage).normalize():f}%. Instructions may take at most 100% of an issuance "
                    "in total: lower the percentage, or end one of them first.")


def _instruction_lock(instruction: StandingInstruction, **scope) -> StandingInstruction:
    locked = StandingInstruction.objects.select_for_update().filter(pk=instruction.pk, **scope).first()
    if locked is None:
        raise InstructionRefused("There is no such instruction.")
    return locked


IRREVOCABLE = ("Instruction {id} is irrevocable: it can be neither ended nor changed. Registry staff can lift the "
               "flag if every party agrees.")


@transaction.atomic(durable=True)
def instruction_end(*, instruction: StandingInstruction, user: User,
                    organization: Organization) -> StandingInstruction:
    """End an instruction: issuances from now on are not touched by it; what it moved stays moved.
    A manager or trader ends it; an irrevocable one is refused (only registry staff lift the flag)."""
    role_require(user=user, organization=organization)
    locked = _instruction_lock(instruction, organization=organization)
    if locked.irrevocable:
        raise InstructionRefused(IRREVOCABLE.format(id=locked.pk))
    if not locked.is_active:
        raise InstructionRefused(f"Instruction {locked.pk} has already ended.")
    now = timezone.now()
    if StandingInstruction.objects.filter(pk=locked.pk, status=StandingInstruction.Status.ACTIVE,
                                          irrevocable=False).update(
            status=StandingInstruction.Status.ENDED, ended_at=now, ended_by=user) != 1:
        raise InstructionRefused("The instruction changed meanwhile; nothing changed.")
    ledger_record(kind=LedgerEvent.Kind.INSTRUCTION_ENDED, actor=user, organization=organization,
                  before={"instruction": locked.pk, "status": StandingInstruction.Status.ACTIVE},
                  after={"instruction": locked.pk, "status": StandingInstruction.Status.ENDED})
    locked.status, locked.ended_at, locked.ended_by = StandingInstruction.Status.ENDED, now, user
    return locked


@transaction.atomic(durable=True)
def instruction_lift_irrevocable(*, instruction: StandingInstruction, user: User,
                                 note: str = "") -> StandingInstruction:
    """Registry staff make an irrevocable instruction revocable (its organization may then end it),
    recorded in the ledger with who did it and why (`note`)."""
    staff_require(user=user)
    locked = _instruction_lock(instruction)
    if not locked.irrevocable:
        raise InstructionRefused(f"Instruction {locked.pk} is not irrevocable.")
    if StandingInstruction.objects.filter(pk=locked.pk, irrevocable=True).update(irrevocable=False) != 1:
        raise InstructionRefused("The instruction changed meanwhile; nothing changed.")
    ledger_record(kind=LedgerEvent.Kind.INSTRUCTION_LIFTED, actor=user,
                  organization=Organization(pk=locked.organization_id),
                  before={"instruction": locked.pk, "irrevocable": True},
                  after={"instruction": locked.pk, "irrevocable": False}, note=note)
    locked.irrevocable = False
    return locked


@transaction.atomic(savepoint=False)  # inside the issuance's transaction: joins it, no savepoint of its own
def instructions_run(*, certificate: Certificate, user: User | None = None,
                     instructions: list[StandingInstruction] | None = None) -> list[InstructionRun]:
    """instructions_run_all for one new issuance (`instructions`: as instructions_for gave them for
    it, to save the read). Returns its runs."""
    return instructions_run_all(certificates=[certificate], user=user,
                                instructions=None if instructions is None else {certificate.pk: instructions})


@dataclass
class _Move:
    """One instruction's move out of one issuance, waiting for its transfer."""

    run: InstructionRun
    batch_id: int
    refusals: list[str]


@transaction.atomic(savepoint=False)  # inside the issuance's transaction: joins it, no savepoint of its own
def instructions_run_all(*, certificates: list[Certificate], user: User | None = None,
                         instructions: dict[int, list[StandingInstruction]] | None = None) -> list[InstructionRun]:
    """Apply the organizations' active instructions to new issuances, inside the caller's
    transaction (the issuance's), and record one run per instruction and issuance. Returns the
    runs, by issuance (in the order given), then by instruction.

    - Which: the active instructions of the generator's owner for that generator, or for its fuel,
      whose vintages cover the certificate's (instructions_for reads them; pass `instructions` as
      it gave them to save the read).
    - Order: by when they were set (their id), oldest first; each takes from what is left of the
      issuance in the account it was issued into.
    - How much: a percentage asks floor(issued × percentage / 100) of the issued quantity; a
      maximum asks that many. It takes the smaller of that and what is left; what no instruction
      takes stays in the issuance account, so moved + left = issued, always.
    - Where: the first destination, by priority, that can receive. Each attempt is a transfer made
      by the transfer services (transfer_write, retirement_write) as the instruction's creator,
      with their every rule (open active accounts, suspended organizations, the creator's role);
      a refused attempt rolls back to its own savepoint (transfer_write's atomic block) and the next
      destination is tried. A transfer to another organization is pending until it accepts.
    - Together: the issuances' moves to the same first destination, by the same creator, travel in
      one transfer of many lines (the n-th instruction of every issuance at a time, so each still
      takes from what the ones before it left). If that transfer is refused, each of its moves is
      tried on its own, destination by destination, as above: the outcome of each instruction is
      the one it would have had alone.
    - Skipped: when nothing is left, the percentage rounds down to 0, the creator may no longer
      transfer, the organization is overdue for the annual generator review (certificates.reviews:
      it may not transfer or retire until it confirms its generators; the transfer services would
      refuse each destination for it, said here once), or no destination can receive. The
      certificates stay where they were issued; in the last three cases the organization's managers
      are emailed once the issuance commits.

    `user` (who issued) is not the actor of the moves: the instruction's creator is.
    """
    if instructions is None:
        instructions = instructions_for(certificates)
    queues = {certificate.pk: sorted(instructions.get(certificate.pk, []), key=lambda instruction: instruction.pk)
              for certificate in certificates}
    certificates = [certificate for certificate in certificates if queues[certificate.pk]]
    if not certificates:
        return []
    _generators_load(certificates)  # the transfers' notes name them
    left: dict[int, tuple[int | None, int]] = {certificate.pk: (None, 0) for certificate in certificates}
    for batch_id, certificate_id, quantity in (  # each issuance's batch, as issued (the oldest active one)
            CertificateBatch.objects.filter(certificate_id__in=left.keys(), status=CertificateBatch.Status.ACTIVE)
            .order_by("certificate_id", "pk").distinct("certificate_id")
            .values_list("pk", "certificate_id", "quantity")):
        left[certificate_id] = (batch_id, quantity)
    runs: dict[int, list[InstructionRun]] = {certificate.pk: [] for certificate in certificates}
    overdue = organization_refusals({instruction.organization for queue in queues.values() for instruction in queue},
                              review_today())
    for turn in range(max(len(queue) for queue in queues.values())):
        together: dict[tuple, list[_Move]] = {}
        for certificate in certificates:
            if turn >= len(queues[certificate.pk]):
                continue
            instruction = queues[certificate.pk][turn]
            batch_id, remaining = left[certificate.pk]
            run = _run_start(instruction, certificate, remaining, overdue=overdue.get(instruction.organization_id, ""))
            runs[certificate.pk].append(run)
            if run.quantity_moved:
                destination = instruction.destinations.all()[0]
                together.setdefault(_transfer_key(instruction, destination, certificate), []).append(
                    _Move(run, batch_id, []))
        for moves in together.values():
            for move, transfer in _moves_make(moves):
                batch_id, remaining = left[move.run.certificate.pk]
                if transfer is None:
                    move.run.quantity_moved = 0
                    continue
                left[move.run.certificate.pk] = (transfer.remainders.get(batch_id), remaining - move.run.quantity_moved)
    made = [run for certificate in certificates for run in runs[certificate.pk]]
    InstructionRun.objects.bulk_create(made)
    _skipped_record(made)
    return made


def _skipped_record(runs: list[InstructionRun]) -> None:
    """The runs whose owner must hear of them, one instructions.skipped event per organization, in the
    issuance's transaction: the emails consumer sends each organization's managers one email of them."""
    told: dict[int, list[int]] = {}
    for run in runs:
        if run.tell_owner:
            told.setdefault(run.instruction.organization_id, []).append(run.pk)
    events_record([event_new(kind=Event.Kind.INSTRUCTIONS_SKIPPED, organization_id=organization_id,
                             data={"run_ids": run_ids}) for organization_id, run_ids in sorted(told.items())])


def _run_start(instruction: StandingInstruction, certificate: Certificate, left: int, *,
               overdue: str = "") -> InstructionRun:
    """The instruction's run on the issuance: skipped with the reason, or with quantity_moved set
    to what it takes (applied once a transfer carries it). `overdue`: why its organization may not
    send now (the annual generator review), if it may not."""
    asked = instruction.quantity_asked(certificate.quantity)
    run = InstructionRun(instruction=instruction, certificate=certificate, quantity_asked=asked,
                         quantity_moved=0, status=InstructionRun.Status.SKIPPED)
    taking = min(asked, left)
    if asked == 0:
        run.message = (f"{instruction.share_label} of {certificate.quantity:,} rounds down to 0 certificates; "
                       "nothing was moved.")
    elif taking == 0:
        run.message = "Nothing was left of this issuance after the instructions set before this one."
    elif not instruction.creator_may_transfer:
        run.tell_owner = True
        run.message = (f"{instruction.created_by.email}, who set this instruction, may no longer transfer for "
                       f"{instruction.organization.name}; the certificates stay where they were issued. "
                       "End this instruction and set it again.")
    elif overdue:
        run.tell_owner = True
        run.message = f"{overdue} The certificates stay where they were issued."
    else:
        run.quantity_moved = taking
    return run


def _transfer_key(instruction: StandingInstruction, destination: InstructionDestination,
                  certificate: Certificate) -> tuple:
    """What moves sharing a transfer have in common: sender, creator and the destination as the
    transfer will be made (a retirement's compliance period resolved)."""
    return (instruction.organization_id, instruction.created_by_id, destination.kind, destination.account_id,
            destination.recipient_id, destination.retirement_option_id, destination.beneficiary,
            destination.compliance_period or certificate.period.year)


def _moves_make(moves: list[_Move]):
    """Make the moves sharing a first destination: in one transfer, or, if it is refused (or there
    is one move), each on its own through its destinations. Yields each move with its transfer
    (None: no destination could receive)."""
    if len(moves) > 1:
        try:
            transfer = _move(moves, moves[0].run.instruction.destinations.all()[0])
        except ServiceError:
            pass
        else:
            for move in moves:
                _applied(move, move.run.instruction.destinations.all()[0], transfer)  # its own destination
                yield move, transfer
            return
    for move in moves:
        yield move, _move_alone(move)


def _move_alone(move: _Move):
    run = move.run
    for destination in run.instruction.destinations.all():
        try:
            transfer = _move([move], destination)
        except ServiceError as error:
            move.refusals.append(f"Destination {destination.priority}: {error}")
            continue
        _applied(move, destination, transfer)
        return transfer
    run.tell_owner = True
    run.message = "No destination could receive; the certificates stay where they were issued. " \
                  + " ".join(move.refusals)
    return None


def _applied(move: _Move, destination: InstructionDestination, transfer) -> None:
    run = move.run
    run.status, run.destination, run.transfer = InstructionRun.Status.APPLIED, destination, transfer
    if move.refusals:
        run.message = "Earlier destinations could not receive: " + " ".join(move.refusals)


def _move(moves: list[_Move], destination: InstructionDestination):
    """One attempt: one transfer of what each move takes (the lowest serials of its issuance's
    batch), made as the first move's instruction's creator to `destination` (the same, as the
    moves share their transfer key, for each of them)."""
    first = moves[0].run
    instruction, certificate = first.instruction, first.certificate
    common = {"organization": instruction.organization, "user": instruction.created_by,
              "lines": [TransferLine(move.batch_id, move.run.quantity_moved) for move in moves],
              "notes": _notes(moves, destination)}
    if destination.kind == Kind.RETIREMENT:
        details = RetirementDetails(option=destination.retirement_option, beneficiary=destination.beneficiary,
                                    compliance_period=destination.compliance_period or certificate.period.year)
        return retirement_write(account=destination.account, details=details, **common)
    if destination.kind == Kind.ORGANIZATION:
        return transfer_write(destination=Destination.to_organization(destination.recipient), **common)
    return transfer_write(destination=Destination.internal(destination.account), **common)


def _generators_load(certificates: list[Certificate]) -> None:
    """Each certificate's generator, read once for all that lack it."""
    missing = {certificate.generator_id for certificate in certificates
               if not Certificate.generator.is_cached(certificate)}
    if not missing:
        return
    generators = Generator.objects.in_bulk(missing)
    for certificate in certificates:
        if not Certificate.generator.is_cached(certificate):
            certificate.generator = generators[certificate.generator_id]


NOTES_BEGIN = {Kind.ORGANIZATION: "Standing delivery", Kind.OWN_ACCOUNT: "Standing transfer",
               Kind.RETIREMENT: "Standing retirement"}


def _notes(moves: list[_Move], destination: InstructionDestination) -> str:
    """The transfer's notes, which both parties read: a standing delivery (to another organization),
    transfer (to an own account) or retirement, of which generators and vintage months, e.g.
    "Standing delivery from Prairie Ridge Wind (M805), 01/2026". The sender's instruction numbers
    are added only where the sender alone reads them: another organization cannot look them up."""
    months: dict[Generator, set[ProductionPeriod]] = {}
    for move in moves:
        certificate = move.run.certificate
        months.setdefault(certificate.generator, set()).add(certificate.period)
    generators = sorted(months, key=lambda generator: generator.code)
    sources = "; ".join(f"{generator.name} ({generator.code}), "
                        + ", ".join(str(month) for month in sorted(months[generator]))
                        for generator in generators)
    notes = f"{NOTES_BEGIN[destination.kind]} from {sources}"
    if destination.kind != Kind.ORGANIZATION:
        instruction_ids = sorted({move.run.instruction.pk for move in moves})
        notes += (f" (standing instruction{pluralize(len(instruction_ids))} "
                  + ", ".join(str(pk) for pk in instruction_ids) + ")")
    if len(notes) <= NOTES_MAX_LENGTH:
        return notes
    vintages = sorted(set().union(*months.values()))
    period = f"{vintages[0]}" + (f" to {vintages[-1]}" if len(vintages) > 1 else "")
    source = (f"{generators[0].name} ({generators[0].code})" if len(generators) == 1
              else f"{number_text(len(generators))} generators")
    return f"{NOTES_BEGIN[destination.kind]} from {source}, {period} (each batch names its generator and vintage)"
