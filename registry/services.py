from collections.abc import Iterable
from functools import partial

from django.contrib.sessions.backends.base import SessionBase
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from events.models import Event
from events.services import event_record
from ledger.models import LedgerEvent
from ledger.services import ledger_record

from .emails import invitation_email_send
from .errors import ServiceConflict as ServiceConflict  # re-exported, with ServiceError: callers import them here
from .errors import ServiceError
from .invitations import EXPIRED, invitation_lifetime, token_new
from .models import EmailEvent, Invitation, Membership, Organization, User
from .selectors import ORGANIZATION_SESSION_KEYS, SESSION_KEY, two_factor_device, two_factor_requiring
from .sessions import sessions_end


def role_require(*, user: User, organization: Organization) -> None:
    """Only a manager or trader of the organization may move its certificates
    (Membership.ROLES_THAT_TRANSFER)."""
    if not Membership.objects.filter(user=user, organization=organization,
                                     role__in=Membership.ROLES_THAT_TRANSFER).exists():
        raise role_refused(organization)


def role_refused(organization: Organization) -> ServiceError:
    """The refusal for a user who is not a manager or trader of the organization."""
    return ServiceError(f"You are not allowed to transfer for {organization.name}.")


def staff_require(*, user: User) -> None:
    if not (user and user.is_staff):
        raise ServiceError("Only registry staff may do this.")


def organization_lock_for_share(organization_id: int) -> str | None:
    """The organization's status, share-locked against a concurrent suspension. SQL because the ORM
    has no FOR SHARE (a FOR UPDATE would make every transfer to the organization wait for the
    others); not for speed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM registry_organization WHERE id = %s FOR SHARE", [organization_id]
        )
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic(durable=True)
def organization_set_status(*, user: User, organization: Organization, status: str, note: str = "") -> None:
    """Suspend or reinstate a participant (registry staff). A suspended one neither sends nor receives."""
    staff_require(user=user)
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    if current.status == status:
        raise ServiceError(f"{current.name} is already {status}.")
    updated = Organization.objects.filter(pk=current.pk, status=current.status).update(status=status)
    if updated != 1:
        raise ServiceError("The organization changed meanwhile; try again.")
    ledger_record(
        kind=LedgerEvent.Kind.ORGANIZATION_STATUS, actor=user, organization=current,
        before={"status": current.status}, after={"status": status}, note=note,
    )
    organization.status = status


@transaction.atomic(durable=True)
def organization_set_kind(*, user: User, organization: Organization, kind: str, note: str = "") -> None:
    """Make an organization a regulator, or a participant again (registry staff). A regulator's
    members read the retirements toward the programs it administers; one that still administers a
    program stays a regulator until staff remove it from the program."""
    staff_require(user=user)
    if kind not in Organization.Kind.values:
        raise ServiceError("Choose a kind: participant or regulator.")
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    if current.kind == kind:
        raise ServiceError(f"{current.name} is already a {current.get_kind_display().lower()}.")
    # Through the reverse relation (programs is a layer above this one); program_administrator_add locks
    # this row too, so the two cannot cross.
    if kind != Organization.Kind.REGULATOR and current.programs_administered.exists():
        raise ServiceError(f"{current.name} administers a program; remove it from the program first.")
    Organization.objects.filter(pk=current.pk, kind=current.kind).update(kind=kind)
    ledger_record(kind=LedgerEvent.Kind.ORGANIZATION_SETTINGS, actor=user, organization=current,
                  before={"kind": current.kind}, after={"kind": kind}, note=note)
    organization.kind = kind


def billing_contact_refusal(*, organization: Organization, contact: User | None) -> str:
    """Why `contact` cannot be `organization`'s billing contact ("": it can): it must be one of its
    members, of any role (its invoices and their notices go there). The one rule the service and the
    admin's form ask."""
    if contact is None or Membership.objects.filter(organization=organization, user=contact).exists():
        return ""
    return (f"{contact.email} is not a member of {organization.name}: the billing contact must be one of its "
            f"members. Invite them first, or choose a member.")


@transaction.atomic(durable=True)
def organization_set_billing(*, user: User, organization: Organization, billing_contact: User | None,
                             billing_tier: str) -> None:
    """The organization's billing contact (any member, or none: its managers), set by a manager or
    registry staff, and its subscription tier, which prices its subscription: set by registry staff
    only. With its ledger event."""
    manager_require(user=user, organization=organization)
    if billing_tier not in Organization.Tier.values:
        raise ServiceError("Choose a tier: small, medium or large.")
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    if billing_tier != current.billing_tier and not user.is_staff:
        raise ServiceError("Only registry staff change an organization's subscription tier.")
    if refusal := billing_contact_refusal(organization=current, contact=billing_contact):
        raise ServiceError(refusal)
    before = {"billing_contact": current.billing_contact.email if current.billing_contact else None,
              "billing_tier": current.billing_tier}
    after = {"billing_contact": billing_contact.email if billing_contact else None, "billing_tier": billing_tier}
    if before == after:
        return
    current.billing_contact, current.billing_tier = billing_contact, billing_tier
    current.save(update_fields=["billing_contact", "billing_tier"])
    ledger_record(kind=LedgerEvent.Kind.ORGANIZATION_SETTINGS, actor=user, organization=current, before=before,
                  after=after)
    organization.billing_contact, organization.billing_tier = billing_contact, billing_tier


def user_set_emails(*, user: User, wanted: Iterable[str]) -> None:
    """Which emails the user gets (registry.models.EmailEvent): the ones not wanted are kept as the
    user's opt-outs, read by each email as it is sent. The user's own preference: no ledger event."""
    opt_outs = [event for event in EmailEvent.values if event not in set(wanted)]
    User.objects.filter(pk=user.pk).update(email_opt_outs=opt_outs)
    user.email_opt_outs = opt_outs


def user_set_name(*, user: User, full_name: str) -> None:
    """The name other members see (the Members page, invitations the user sends). The user's own
    detail, not a record of the registry's: no ledger event."""
    User.objects.filter(pk=user.pk).update(full_name=full_name.strip())
    user.full_name = full_name.strip()


@transaction.atomic(durable=True)
def organization_require_two_factor(*, user: User, organization: Organization, required: bool) -> None:
    """Require (or stop requiring) two-factor sign-in of every member (a manager)."""
    manager_require(user=user, organization=organization)
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    if current.require_two_factor == required:
        raise ServiceError(f"Two-factor sign-in is already {'required' if required else 'optional'} "
                           f"for {current.name}.")
    Organization.objects.filter(pk=current.pk).update(require_two_factor=required)
    ledger_record(kind=LedgerEvent.Kind.ORGANIZATION_SETTINGS, actor=user, organization=current,
                  before={"require_two_factor": current.require_two_factor}, after={"require_two_factor": required})
    organization.require_two_factor = required


class CodeRefused(ServiceError):
    """The code from the authenticator app is not right (the form's code field says so)."""

    def __init__(self):
        super().__init__("That code is not right (or has expired); try the current one.")


def _two_factor_record(*, user: User, on: bool) -> None:
    """The ledger event of a user turning two-factor sign-in on or off: filed under no organization
    (the user's own sign-in, whichever organizations they belong to)."""
    person = {"user": user.pk, "email": user.email}
    ledger_record(kind=LedgerEvent.Kind.TWO_FACTOR_ON if on else LedgerEvent.Kind.TWO_FACTOR_OFF, actor=user,
                  before=person | {"two_factor": not on}, after=person | {"two_factor": on})
    event_record(kind=Event.Kind.TWO_FACTOR_CHANGED, subject_id=user.pk, data={"on": on})


def _user_lock(user: User) -> None:
    """One change of the user's two-factor sign-in at a time (a double press, two tabs)."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()


@transaction.atomic(durable=True)
def two_factor_start(*, user: User) -> TOTPDevice:
    """A new authenticator for the user to scan, not yet confirmed (one started before is dropped).
    Nothing is recorded: two-factor sign-in is not on until a code confirms it (two_factor_confirm)."""
    _user_lock(user)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ServiceError("Two-factor sign-in is already on.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def two_factor_confirm(*, user: User, code: str) -> TOTPDevice:
    """Turn two-factor sign-in on: the authenticator started, confirmed by the code it shows now; a
    ledger event. The code is checked before the change's transaction: a wrong one counts towards
    the authenticator's throttle (django-otp saves the count), which a rollback would forget."""
    device = two_factor_device(user, confirmed=False)
    if device is None or not device.verify_token(code.replace(" ", "")):
        raise CodeRefused()
    _two_factor_turn_on(user=user, device=device)
    return device


@transaction.atomic(durable=True)
def _two_factor_turn_on(*, user: User, device: TOTPDevice) -> None:
    _user_lock(user)
    if TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True) != 1:
        raise ServiceError("Two-factor sign-in changed meanwhile; look again.")
    device.confirmed = True
    _two_factor_record(user=user, on=True)


def two_factor_disable(*, user: User, code: str) -> None:
    """Turn two-factor sign-in off, with a code the authenticator shows now; a ledger event. Refused
    while one of the user's organizations requires it. (A requirement set at the same moment is not
    waited for: the portal then sends the member to set it up again, as any member without it.) The
    code is checked before the change's transaction, as two_factor_confirm says why."""
    requiring = two_factor_requiring(user)
    if requiring:
        raise ServiceError(f"{requiring[0].name} requires two-factor sign-in of its members, so it stays on.")
    device = two_factor_device(user, confirmed=True)
    if device is None or not device.verify_token(code.replace(" ", "")):
        raise CodeRefused()
    _two_factor_turn_off(user=user, device=device)


@transaction.atomic(durable=True)
def _two_factor_turn_off(*, user: User, device: TOTPDevice) -> None:
    _user_lock(user)
    deleted, _ = TOTPDevice.objects.filter(pk=device.pk, confirmed=True).delete()
    if not deleted:
        raise ServiceError("Two-factor sign-in changed meanwhile; look again.")
    _two_factor_record(user=user, on=False)


def organization_choose(*, session: SessionBase, membership: Membership, current: Membership | None) -> None:
    """Work in `membership`'s organization from now on (the session's current organization, after
    `current`). What was chosen in another organization stays there: a switch drops the session's
    ORGANIZATION_SESSION_KEYS (the dashboard's selection). The user's working state: no ledger event."""
    if current is None or current.organization_id != membership.organization_id:
        for key in ORGANIZATION_SESSION_KEYS:
            session.pop(key, None)
    session[SESSION_KEY] = membership.organization_id


def user_set_time_zone(*, user: User, time_zone: str) -> None:
    """The zone the user's dates and times are shown in (utilities.time_zones validates it). A display
    preference of the user's, not a change of the registry's records: no ledger event."""
    User.objects.filter(pk=user.pk).update(time_zone=time_zone)
    user.time_zone = time_zone


def manager_require(*, user: User, organization: Organization) -> None:
    """Only a manager of the organization (Membership.is_manager), or registry staff onboarding it,
    runs it: its members and invitations, accounts, generators, settings, API keys and webhooks. The
    one rule every service that needs a manager calls (the pages' gate is membership_required's
    `manage`, on the same property)."""
    if user.is_staff:
        return
    membership = Membership.objects.filter(user=user, organization=organization).only("role").first()
    if membership is None or not membership.is_manager:
        raise ServiceError(Membership.manager_only_note(organization))


def _member_record(membership: Membership) -> dict:
    """How a ledger event names a member: their user id and address (the address outlives a rename)."""
    return {"user": membership.user_id, "email": membership.user.email, "role": membership.role}


def _member_changed_record(membership: Membership, *, change: str, by: User) -> None:
    """The member.changed domain event of a member who joined, was given another role or was removed
    (`change`), in the change's transaction, for the consumers to come (no email is sent of it)."""
    event_record(kind=Event.Kind.MEMBER_CHANGED, organization_id=membership.organization_id,
                 subject_id=membership.user_id, data={"change": change, "role": membership.role, "by": by.pk})


@transaction.atomic(durable=True)
def invitation_create(*, organization: Organization, invited_by: User, email: str, role: str) -> Invitation:
    """Invite an address to join the organization with a role: an email with a single-use link that
    works for INVITATION_DAYS. Refused for an address that is already a member or already invited."""
    manager_require(user=invited_by, organization=organization)
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Membership.Role.values:
        raise ServiceError("Choose a role: manager, trader or viewer.")
    Organization.objects.select_for_update().filter(pk=organization.pk).first()  # one invitation at a time
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ServiceError(f"{email} is already a member of {organization.name}.")
    if Invitation.objects.filter(organization=organization, email=email, status=Invitation.Status.PENDING).exists():
        raise ServiceError(f"{email} has already been invited; resend that invitation from the list below.")
    token, token_hash = token_new()
    now = timezone.now()
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=token_hash, invited_by=invited_by,
        created_at=now, sent_at=now, expires_at=now + invitation_lifetime())
    ledger_record(kind=LedgerEvent.Kind.MEMBER_INVITED, actor=invited_by, organization=organization,
                  after={"invitation": invitation.pk, "email": email, "role": role})
    _invitation_email_on_commit(invitation, token)
    return invitation


def _invitation_email_on_commit(invitation: Invitation, token: str) -> None:
    """The email goes after the commit, from this process: the token lives only in it, never in the
    database or a queue (so not in a domain event either: events are kept, and read by every consumer,
    which is why this one email is not the emails consumer's). A mail server that fails is logged
    (robust); the manager can resend."""
    transaction.on_commit(partial(invitation_email_send, invitation=invitation, token=token), robust=True)


def _invitation_lock_pending(invitation: Invitation) -> Invitation:
    current = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    if current.status != Invitation.Status.PENDING:
        raise ServiceError(f"The invitation to {current.email} was already {current.get_status_display().lower()}.")
    return current


@transaction.atomic(durable=True)
def invitation_resend(*, invitation: Invitation, user: User) -> Invitation:
    """Send a pending invitation again, with a new link valid for INVITATION_DAYS; the old link stops working."""
    manager_require(user=user, organization=invitation.organization)
    current = _invitation_lock_pending(invitation)
    token, token_hash = token_new()
    now = timezone.now()
    current.token_hash, current.sent_at, current.expires_at = token_hash, now, now + invitation_lifetime()
    current.save(update_fields=["token_hash", "sent_at", "expires_at"])
    ledger_record(kind=LedgerEvent.Kind.INVITATION_RESENT, actor=user, organization=current.organization,
                  after={"invitation": current.pk, "email": current.email, "role": current.role})
    _invitation_email_on_commit(current, token)
    return current


@transaction.atomic(durable=True)
def invitation_revoke(*, invitation: Invitation, user: User) -> None:
    """Withdraw a pending invitation: its link stops working at once."""
    manager_require(user=user, organization=invitation.organization)
    current = _invitation_lock_pending(invitation)
    Invitation.objects.filter(pk=current.pk).update(status=Invitation.Status.REVOKED, closed_at=timezone.now())
    ledger_record(kind=LedgerEvent.Kind.INVITATION_REVOKED, actor=user, organization=current.organization,
                  before={"invitation": current.pk, "email": current.email, "role": current.role})
    invitation.status = Invitation.Status.REVOKED


@transaction.atomic(durable=True)
def invitation_accept(*, invitation: Invitation, user: User | None = None, full_name: str = "",
                      password: str = "") -> Membership:
    """Join the organization with the invitation's role, once: as `user` (an existing account, whose
    address must be the one invited), or as a new user with this name and password (the form checked
    it against the password validators). A used, revoked or expired invitation is refused."""
    current = _invitation_lock_pending(invitation)
    if current.is_expired:
        raise ServiceError(EXPIRED)
    if user is None:
        if User.objects.filter(email__iexact=current.email).exists():
            raise ServiceError(f"There is already an account for {current.email}: sign in to join.")
        user = User.objects.create_user(current.email, password, full_name=full_name.strip())
    elif user.email.lower() != current.email:
        raise ServiceError(f"This invitation is for {current.email}; you are signed in as {user.email}.")
    elif Membership.objects.filter(user=user, organization=current.organization).exists():
        raise ServiceError(f"You are already a member of {current.organization.name}.")
    membership = Membership.objects.create(user=user, organization=current.organization, role=current.role)
    Invitation.objects.filter(pk=current.pk).update(status=Invitation.Status.ACCEPTED, accepted_by=user,
                                                    closed_at=timezone.now())
    ledger_record(kind=LedgerEvent.Kind.MEMBER_JOINED, actor=user, organization=current.organization,
                  after={"invitation": current.pk, **_member_record(membership)})
    _member_changed_record(membership, change="joined", by=user)
    return membership


def _managers_lock(organization: Organization) -> dict[int, int]:
    """Lock the organization's managers' memberships (in primary-key order): {membership id: user id}.

    Every change that could leave no manager takes this lock first, so two managers demoting each
    other at once run one after the other, and the second sees the first's change.
    """
    return dict(Membership.objects.select_for_update().filter(organization=organization, role=Membership.Role.MANAGER)
                .order_by("pk").values_list("pk", "user_id"))


def _member_lock(*, user: User, organization: Organization, member: Membership) -> tuple[Membership, dict[int, int]]:
    """The member to change, locked, and the managers, locked; the acting user is checked again under
    the lock (a manager demoted a moment ago acts no more)."""
    manager_require(user=user, organization=organization)
    managers = _managers_lock(organization)
    manager_require(user=user, organization=organization)  # again, now that no manager can change
    current = (Membership.objects.select_for_update().select_related("user")
               .filter(pk=member.pk, organization=organization).first())
    if current is None:
        raise ServiceError("That person is no longer a member of the organization.")
    return current, managers


def _last_manager_refused(current: Membership, managers: dict[int, int], doing: str) -> None:
    if current.pk in managers and len(managers) == 1:
        raise ServiceError(f"{current.user.email} is the organization's only manager and cannot be {doing}; "
                           "make someone else a manager first.")


@transaction.atomic(durable=True)
def member_role_change(*, user: User, organization: Organization, member: Membership, role: str) -> Membership:
    """Give a member another role. The organization always keeps at least one manager."""
    if role not in Membership.Role.values:
        raise ServiceError("Choose a role: manager, trader or viewer.")
    current, managers = _member_lock(user=user, organization=organization, member=member)
    if current.role == role:
        raise ServiceError(f"{current.user.email} is already a {current.get_role_display().lower()}.")
    if role != Membership.Role.MANAGER:
        _last_manager_refused(current, managers, "demoted")
    before = _member_record(current)
    Membership.objects.filter(pk=current.pk).update(role=role)
    current.role = role
    ledger_record(kind=LedgerEvent.Kind.MEMBER_ROLE_CHANGED, actor=user, organization=organization,
                  before=before, after=_member_record(current))
    _member_changed_record(current, change="role_changed", by=user)
    return current


@transaction.atomic(durable=True)
def member_remove(*, user: User, organization: Organization, member: Membership) -> None:
    """Remove a member: their access to the organization ends at once (their sessions in it end).
    The organization always keeps at least one manager."""
    current, managers = _member_lock(user=user, organization=organization, member=member)
    _last_manager_refused(current, managers, "removed")
    Membership.objects.filter(pk=current.pk).delete()
    ledger_record(kind=LedgerEvent.Kind.MEMBER_REMOVED, actor=user, organization=organization,
                  before=_member_record(current))
    _member_changed_record(current, change="removed", by=user)
    sessions_end(user_id=current.user_id, organization_id=organization.pk)
