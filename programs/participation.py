"""A program's participants and administrators (issue #29, item 3): registry staff make a regulator
organization a program's administrator; staff or the administrator invite an organization to join
the program; its managers accept or decline; a joined organization opens the program's retirement
accounts. Each step under a lock, with its ledger event in the same transaction.

The reads that decide who sees what are here too: the programs an organization administers (whose
retirements its members read: retirements.selectors.retirements_visible_to) and an organization's
invitations and programs."""

from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_write
from events.models import Event
from events.services import event_record
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import Membership, Organization, User
from registry.services import ServiceError, manager_require, staff_require

from .models import Program, ProgramAccount, ProgramAdministrator, ProgramParticipation

Status = ProgramParticipation.Status


def _program_record(program: Program) -> dict:
    """How a ledger event names a program: its id and code (the code outlives a rename)."""
    return {"program": program.pk, "program_code": program.code, "program_name": program.name}


def _organization_lock(organization: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization.pk)


# --- Program administrators (registry staff, in the program's admin page) ----------------------------


@transaction.atomic  # not durable: the admin site saves the program's inline inside its own transaction
def program_administrator_add(*, user: User, program: Program, organization: Organization) -> ProgramAdministrator:
    """Make a regulator organization an administrator of the program (registry staff): its members
    read every retirement toward the program from then on."""
    staff_require(user=user)
    current = _organization_lock(organization)  # against a change of its kind meanwhile
    if not current.is_regulator:
        raise ServiceError(f"{current.name} is not a regulator; make it one on its page first.")
    if ProgramAdministrator.objects.filter(program=program, organization=current).exists():
        raise ServiceError(f"{current.name} already administers {program.name}.")
    administrator = ProgramAdministrator.objects.create(program=program, organization=current)
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_ADMINISTRATOR_ADDED, actor=user, organization=current,
                  after=_program_record(program))
    return administrator


@transaction.atomic  # not durable, as program_administrator_add
def program_administrator_remove(*, user: User, administrator: ProgramAdministrator) -> None:
    """Take a program from an administrator (registry staff): its members no longer read its
    retirements."""
    staff_require(user=user)
    _organization_lock(administrator.organization)
    deleted, _ = ProgramAdministrator.objects.filter(pk=administrator.pk).delete()
    if not deleted:
        raise ServiceError(f"{administrator.organization.name} no longer administers {administrator.program.name}.")
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_ADMINISTRATOR_REMOVED, actor=user,
                  organization=administrator.organization, before=_program_record(administrator.program))


def programs_administered_by(organization: Organization) -> QuerySet[Program]:
    """The programs the organization administers (none unless it is a regulator), by name."""
    if not organization.is_regulator:
        return Program.objects.none()
    return Program.objects.filter(administrators__organization=organization).order_by("name")


def program_administered_by(organization: Organization, program_id: int) -> Program:
    """One program the organization administers; any other is a 404."""
    return get_object_or_404(programs_administered_by(organization), pk=program_id)


# --- Participation: invited, joined or declined ------------------------------------------------------


def _invite_allowed(*, user: User, program: Program) -> None:
    """Registry staff invite to any program; a manager of a regulator administering the program, to it."""
    if user.is_staff:
        return
    if not Membership.objects.filter(user=user, role=Membership.Role.MANAGER,
                                     organization__kind=Organization.Kind.REGULATOR,
                                     organization__programs_administered__program=program).exists():
        raise ServiceError(f"Only registry staff or a manager of an administrator of {program.name} may invite "
                           "organizations to it.")


def invitation_sent_text(participation: ProgramParticipation) -> str:
    """What the admin and the regulators' page say once an invitation is sent."""
    return (f"{participation.organization.name} is invited to join {participation.program.name}; its managers are "
            "told by email.")


@transaction.atomic(durable=True)
def participation_invite(*, user: User, program: Program, organization: Organization) -> ProgramParticipation:
    """Invite an organization to join a program (registry staff, or a manager of one of the program's
    administrators); its managers are emailed (the program.invited event) and accept or decline on
    their Programs page. An organization that declined may be invited again; one invited or joined
    is refused, and so is a regulator (it reads programs, it does not take part in them)."""
    _invite_allowed(user=user, program=program)
    current = _organization_lock(organization)
    if current.is_regulator:
        raise ServiceError(f"{current.name} is a regulator, not a participant: it cannot join a program.")
    if not current.is_active:
        raise ServiceError(f"{current.name} is suspended; it cannot be invited to a program.")
    participation = ProgramParticipation.objects.filter(program=program, organization=current).first()
    if participation is not None and participation.status != Status.DECLINED:
        raise ServiceError(f"{current.name} has already been invited to {program.name} "
                           f"({participation.get_status_display().lower()}).")
    now = timezone.now()
    if participation is None:
        participation = ProgramParticipation.objects.create(program=program, organization=current, invited_by=user,
                                                            invited_at=now)
    else:  # declined before: invited again
        ProgramParticipation.objects.filter(pk=participation.pk, status=Status.DECLINED).update(
            status=Status.INVITED, invited_by=user, invited_at=now, decided_by=None, decided_at=None)
        participation.refresh_from_db()
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_INVITED, actor=user, organization=current,
                  after=_program_record(program) | {"participation": participation.pk})
    event_record(kind=Event.Kind.PROGRAM_INVITED, organization_id=current.pk, subject_id=participation.pk,
                 data={"program": program.pk})
    return participation


@transaction.atomic(durable=True)
def participation_decide(*, user: User, participation: ProgramParticipation, join: bool) -> ProgramParticipation:
    """The invited organization's answer (a manager): join the program, or decline. Only an invitation
    waiting for an answer can be answered, once."""
    organization = participation.organization
    manager_require(user=user, organization=organization)
    current = (ProgramParticipation.objects.select_for_update().select_related("program")
               .filter(pk=participation.pk, organization=organization).first())
    if current is None:
        raise ServiceError("No such invitation.")
    if current.status != Status.INVITED:
        raise ServiceError(f"{organization.name} has already {current.get_status_display().lower()} "
                           f"{current.program.name}.")
    status = Status.JOINED if join else Status.DECLINED
    now = timezone.now()
    ProgramParticipation.objects.filter(pk=current.pk, status=Status.INVITED).update(
        status=status, decided_by=user, decided_at=now)
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_JOINED if join else LedgerEvent.Kind.PROGRAM_DECLINED, actor=user,
                  organization=organization, before={"status": Status.INVITED.value},
                  after=_program_record(current.program) | {"participation": current.pk, "status": status.value})
    current.status, current.decided_by, current.decided_at = status, user, now
    return current


def participations_of(organization: Organization) -> QuerySet[ProgramParticipation]:
    """The organization's invitations to programs and the programs it joined or declined."""
    return (ProgramParticipation.objects.filter(organization=organization).select_related("program", "invited_by")
            .order_by("program__name"))


def participation_of(organization: Organization, participation_id: int) -> ProgramParticipation:
    """One of the organization's invitations; another organization's is a 404."""
    return get_object_or_404(participations_of(organization), pk=participation_id)


def participations_in(program: Program) -> QuerySet[ProgramParticipation]:
    """The organizations invited to a program, with their answer (what its administrators see)."""
    return (ProgramParticipation.objects.filter(program=program).select_related("organization")
            .order_by("organization__name"))


def program_accounts_of(organization: Organization) -> QuerySet[ProgramAccount]:
    """The organization's program retirement accounts, with their program and account."""
    return (ProgramAccount.objects.filter(account__organization=organization).select_related("account", "program")
            .order_by("program__name", "account__name"))


# --- Program retirement accounts ---------------------------------------------------------------------


@transaction.atomic(durable=True)
def program_account_open(*, user: User, participation: ProgramParticipation, name: str) -> Account:
    """Open a retirement account for a program the organization joined (a manager): a retirement
    account (accounts.services) linked to the program, so what is retired into it counts toward it."""
    organization = participation.organization
    manager_require(user=user, organization=organization)
    current = (ProgramParticipation.objects.select_for_update(of=("self",)).select_related("program")
               .filter(pk=participation.pk, organization=organization).first())
    if current is None or current.status != Status.JOINED:
        program = current.program.name if current else "this program"
        raise ServiceError(f"{organization.name} has not joined {program}; accept its invitation first.")
    account = account_write(user=user, organization=organization, name=name, type=Account.Type.RETIREMENT,
                            recorded=_program_record(current.program))
    ProgramAccount.objects.create(account=account, program=current.program)
    return account
