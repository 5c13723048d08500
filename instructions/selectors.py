from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Account
from certificates.models import Certificate, Generator
from registry.models import Membership, Organization, User
from retirements.models import RetirementOption

from .models import InstructionDestination, InstructionRun, StandingInstruction


def _destinations() -> Prefetch:
    return Prefetch("destinations", queryset=InstructionDestination.objects.select_related(
        "account", "recipient", "retirement_option").order_by("priority"))


def instructions_of(organization: Organization) -> QuerySet[StandingInstruction]:
    """The organization's instructions, active ones first, then newest first, with their
    destinations."""
    return (StandingInstruction.objects.filter(organization=organization)
            .select_related("generator", "created_by").prefetch_related(_destinations())
            .order_by("status", "-id"))


def instruction_of(organization: Organization, instruction_id: int) -> StandingInstruction:
    """One of the organization's instructions; another organization's is a 404."""
    return get_object_or_404(instructions_of(organization), pk=instruction_id)


def runs_of(instruction: StandingInstruction) -> QuerySet[InstructionRun]:
    """What the instruction did with each issuance, newest first."""
    return (instruction.runs.select_related("certificate", "transfer", "destination__account",
                                            "destination__recipient", "destination__retirement_option")
            .order_by("-id"))


def runs_for_certificate(certificate: Certificate, organization: Organization | None = None
                         ) -> QuerySet[InstructionRun]:
    """What the instructions did with one issuance, in the order they ran (for its issuance page,
    templates/instructions/_runs.html); only `organization`'s instructions if given."""
    runs = (InstructionRun.objects.filter(certificate=certificate)
            .select_related("instruction", "transfer", "destination__account", "destination__recipient",
                            "destination__retirement_option")
            .order_by("instruction_id"))
    return runs.filter(instruction__organization=organization) if organization is not None else runs


def instructions_for(certificates: Iterable[Certificate]) -> dict[int, list[StandingInstruction]]:
    """The active instructions that apply to each of these new issuances, by certificate id, oldest
    first, read together however many certificates (an issuance run hands them to
    instructions_run_all). Each comes with its organization, its creator, whether the creator may still
    transfer for it (`creator_may_transfer`) and its destinations by priority, with their accounts,
    recipients and retirement options.

    The related rows are read once each and shared: an issuance run of 5,000 generators reads
    thousands of instructions of a few organizations, and a join would make an Organization, a User
    and an Account per row (most of the read's time; bench/instruction_runs.py)."""
    certificates = list(certificates)
    owners = _owners(certificates)
    if not certificates:
        return {}
    instructions = list(
        _active_for(generator_ids={c.generator_id for c in certificates}, organization_ids=set(owners.values()),
                    fuel_types={c.fuel_type for c in certificates})
        .filter(from_vintage__lte=max(c.period for c in certificates).first_day)
        .annotate(creator_may_transfer=Exists(Membership.objects.filter(
            user_id=OuterRef("created_by_id"), organization_id=OuterRef("organization_id"),
            role__in=Membership.ROLES_THAT_TRANSFER, user__is_active=True)))
        .order_by("id"))
    _with_related(instructions)
    by_source: dict[object, list[StandingInstruction]] = {}
    for instruction in instructions:
        by_source.setdefault(instruction.generator_id or (instruction.organization_id, instruction.fuel_type),
                             []).append(instruction)
    found = {}
    for certificate in certificates:
        owner = owners[certificate.generator_id]
        candidates = by_source.get(certificate.generator_id, []) + by_source.get((owner, certificate.fuel_type), [])
        found[certificate.pk] = sorted((instruction for instruction in candidates
                                        if instruction.applies_to(certificate, owner)), key=lambda i: i.pk)
    return found


def instructions_apply(*, generators: Iterable[Generator]) -> bool:
    """Whether any active instruction may apply to new issuances of these generators (instructions_for
    then says which, certificate by certificate): an issuance of thousands of intervals reads its
    certificates back for the instructions only when one may (issuance.services._issue_intervals)."""
    generators = list(generators)
    return _active_for(generator_ids={g.pk for g in generators},
                       organization_ids={g.organization_id for g in generators},
                       fuel_types={g.fuel_type for g in generators}).exists()


def _active_for(*, generator_ids: set[int], organization_ids: set[int], fuel_types: set[str]
                ) -> QuerySet[StandingInstruction]:
    """The active instructions for these generators, or for their owners' fuel types."""
    return StandingInstruction.objects.filter(
        Q(generator_id__in=generator_ids)
        | Q(generator__isnull=True, organization_id__in=organization_ids, fuel_type__in=fuel_types),
        status=StandingInstruction.Status.ACTIVE)


def _with_related(instructions: list[StandingInstruction]) -> None:
    """Give the instructions their organizations, creators and destinations (as prefetch_related
    would), each related row read once."""
    if not instructions:
        return
    destinations = list(InstructionDestination.objects.filter(instruction_id__in=[i.pk for i in instructions])
                        .order_by("instruction_id", "priority"))
    organizations = Organization.objects.in_bulk({i.organization_id for i in instructions}
                                                 | {d.recipient_id for d in destinations if d.recipient_id})
    users = User.objects.in_bulk({i.created_by_id for i in instructions})
    accounts = Account.objects.in_bulk({d.account_id for d in destinations if d.account_id})
    options = RetirementOption.objects.in_bulk({d.retirement_option_id for d in destinations
                                                if d.retirement_option_id})
    by_instruction: dict[int, list[InstructionDestination]] = {}
    for destination in destinations:
        destination.account = accounts.get(destination.account_id)
        destination.recipient = organizations.get(destination.recipient_id)
        destination.retirement_option = options.get(destination.retirement_option_id)
        by_instruction.setdefault(destination.instruction_id, []).append(destination)
    for instruction in instructions:
        instruction.organization = organizations[instruction.organization_id]
        instruction.created_by = users[instruction.created_by_id]
        instruction._prefetched_objects_cache = {"destinations": by_instruction.get(instruction.pk, [])}


def _owners(certificates: list[Certificate]) -> dict[int, int]:
    """Each certificate's generator's owner, by generator id (read only for generators not loaded)."""
    owners = {c.generator_id: c.generator.organization_id for c in certificates
              if Certificate.generator.is_cached(c)}
    missing = {c.generator_id for c in certificates} - owners.keys()
    if missing:
        owners.update(Generator.objects.filter(pk__in=missing).values_list("pk", "organization_id"))
    return owners
